import type { Lock } from "../domain/lock.js";
import type { WorkloadState } from "../domain/state.js";
import type { ObservedValue } from "../domain/targets/engine.js";

export interface ServiceStatus {
  readonly service: string;
  readonly state: WorkloadState;
  /** Distinct node and claim values found, and every value with its file and field. */
  readonly observed: {
    readonly nodes: readonly string[];
    readonly claims: readonly string[];
    readonly values: readonly ObservedValue[];
  };
  readonly paths: readonly string[];
  readonly branch: string;
  readonly head: string;
  readonly locked: Lock | undefined;
  readonly warnings: readonly string[];
  /** With state unknown: why failover cannot tell (or could not move it), naming file and field. */
  readonly reason?: string;
}

/** Every configured service's status, all from one commit. */
export interface AllStatus {
  readonly branch: string;
  readonly head: string;
  readonly services: readonly ServiceStatus[];
}
