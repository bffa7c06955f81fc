import { expect } from "vitest";
import { originalsPath } from "../../../../src/domain/originals.js";
import type { Side, WorkloadTarget } from "../../../../src/domain/service.js";
import {
  type FieldEdit,
  inspectTargets,
  type PlacedTarget,
  patchTargets,
  type ServiceInspection,
  type TargetFiles,
} from "../../../../src/domain/targets/engine.js";

/**
 * A service whose one target is a raw Deployment/StatefulSet in `file`, as the use case reads
 * it: that file, the tree listing and the service's (absent) originals record.
 */
export function workloadFiles(text: string, file: string, target: WorkloadTarget): TargetFiles {
  return {
    texts: new Map([[file, text]]),
    kustomizations: [],
    tree: [file],
    originals: { service: target.name, path: originalsPath(target.name) },
  };
}

export function placed(target: WorkloadTarget, file: string): PlacedTarget[] {
  return [{ spec: { type: "workload", path: file, workload: target }, path: file }];
}

/** Where the workload stands, through the engine. */
export function inspect(text: string, target: WorkloadTarget, file: string): ServiceInspection {
  return inspectTargets(workloadFiles(text, file, target), placed(target, file));
}

export interface OneFilePatch {
  /** The file after the patch; the input itself when nothing changes. */
  readonly text: string;
  readonly changed: boolean;
  readonly before: ServiceInspection;
  readonly edits: readonly FieldEdit[];
}

/**
 * Moves the workload to `to` through the engine. Literal values live in the workload's own
 * file, so that is the only file a patch may change (no originals record either).
 */
export function patch(text: string, target: WorkloadTarget, to: Side, file: string): OneFilePatch {
  const result = patchTargets(workloadFiles(text, file, target), placed(target, file), to);
  expect(result.files.map((f) => f.path)).toEqual(result.files.length === 0 ? [] : [file]);
  const [edited] = result.files;
  if (edited !== undefined) expect(edited.before).toBe(text);
  return {
    text: edited?.after ?? text,
    changed: edited !== undefined,
    before: result.before,
    edits: edited?.edits ?? [],
  };
}

/** The observed values of a role, in document order. */
export function observed(inspection: ServiceInspection, role: "node" | "claim"): string[] {
  return inspection.observed.filter((o) => o.role === role).map((o) => o.value);
}
