import { inspectWorkload } from "../domain/manifest/workload.js";
import type { ObservedPlacement, WorkloadState } from "../domain/state.js";
import type { FailoverContext } from "./context.js";
import { findService } from "./find-service.js";
import { readManifest } from "./read-manifest.js";

export interface ServiceStatus {
  readonly service: string;
  readonly state: WorkloadState;
  readonly observed: ObservedPlacement;
  readonly path: string;
  readonly branch: string;
  readonly head: string;
  readonly warnings: readonly string[];
}

export async function getStatus(ctx: FailoverContext, service: string): Promise<ServiceStatus> {
  const spec = findService(ctx, service);
  const manifest = await readManifest(ctx, spec);
  const inspection = inspectWorkload(manifest.text, spec.target, manifest.path);
  return {
    service,
    state: inspection.state,
    observed: inspection.observed,
    path: manifest.path,
    branch: manifest.branch,
    head: manifest.head,
    warnings: inspection.warnings,
  };
}
