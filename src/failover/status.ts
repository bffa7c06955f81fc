import { describeLock, type Lock } from "../domain/lock.js";
import type { WorkloadState } from "../domain/state.js";
import { inspectTargets, type ObservedValue } from "../domain/targets/engine.js";
import type { FailoverContext } from "./context.js";
import { findService } from "./find-service.js";
import { readServices } from "./read-service.js";

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
}

export async function getStatus(ctx: FailoverContext, service: string): Promise<ServiceStatus> {
  const spec = findService(ctx, service);
  const at = await readServices(ctx, [spec]);
  const files = at.services[0];
  if (files === undefined) throw new Error("no files read");
  const inspection = inspectTargets(files.files, files.targets);
  const distinct = (role: string) => [
    ...new Set(inspection.observed.filter((o) => o.role === role).map((o) => o.value)),
  ];
  return {
    service,
    state: inspection.state,
    observed: { nodes: distinct("node"), claims: distinct("claim"), values: inspection.observed },
    paths: files.targets.map((t) => t.path),
    branch: at.branch,
    head: at.head,
    locked: files.lock,
    warnings: [
      ...inspection.warnings,
      ...(files.lock === undefined ? [] : [describeLock(files.lock)]),
    ],
  };
}
