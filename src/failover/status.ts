import { FailoverError } from "../domain/errors.js";
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
  /** With state unknown: why failover cannot tell (or could not move it), naming file and field. */
  readonly reason?: string;
}

export async function getStatus(ctx: FailoverContext, service: string): Promise<ServiceStatus> {
  const spec = findService(ctx, service);
  const at = await readServices(ctx, [spec]);
  const files = at.services[0];
  if (files === undefined) throw new Error("no files read");
  const lockWarnings = files.lock === undefined ? [] : [describeLock(files.lock)];
  let inspection: ReturnType<typeof inspectTargets>;
  try {
    if (files.error !== undefined) throw files.error;
    inspection = inspectTargets(files.files, files.targets);
  } catch (error) {
    // Status never refuses: what cannot be read or moved is a state too.
    if (!(error instanceof FailoverError) || !UNKNOWN_CODES.has(error.code)) throw error;
    return {
      service,
      state: "unknown",
      observed: { nodes: [], claims: [], values: [] },
      paths: files.targets.map((t) => t.path),
      branch: at.branch,
      head: at.head,
      locked: files.lock,
      warnings: lockWarnings,
      reason: error.message,
    };
  }
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
    warnings: [...inspection.warnings, ...lockWarnings],
  };
}

/** Errors about the service's own files (not about the request or the backend). */
const UNKNOWN_CODES = new Set<string>(["refused", "not_found"]);
