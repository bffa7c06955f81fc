import { FailoverError, ManifestRefusal } from "../../errors.js";
import type { Side, WorkloadTarget } from "../../service.js";
import type { Inspection } from "../../state.js";
import { parseManifest } from "../../yaml/parse-manifest.js";
import { renderLike } from "../../yaml/render-scalar.js";
import { applyReplacements, lineAt } from "../../yaml/source-edits.js";
import { findWorkload } from "./find-workload.js";
import { locatePlacement, type PlacementFields } from "./locate-placement.js";
import {
  allFields,
  expectedValue,
  isAt,
  isForeign,
  observedOf,
  stateOf,
} from "./placement-state.js";
import { workloadWarnings } from "./workload-warnings.js";

export interface FieldEdit {
  /** YAML path, e.g. "spec.template.spec.nodeSelector.role". */
  readonly field: string;
  readonly from: string;
  readonly to: string;
  /** 1-based line of the value in the original text. */
  readonly line: number;
}

export interface PatchResult {
  readonly text: string;
  readonly changed: boolean;
  readonly before: Inspection;
  readonly edits: readonly FieldEdit[];
  readonly warnings: readonly string[];
}

interface Analysis {
  readonly fields: PlacementFields;
  readonly inspection: Inspection;
}

function analyse(text: string, target: WorkloadTarget, file: string): Analysis {
  const docs = parseManifest(text, file);
  const workload = findWorkload(docs, target, file);
  const fields = locatePlacement(workload, target, text, file);
  return {
    fields,
    inspection: {
      state: stateOf(fields, target),
      observed: observedOf(fields),
      warnings: workloadWarnings(workload, fields, target, file),
    },
  };
}

/** Where the workload stands (unknown is a state, not an error). Throws ManifestRefusal. */
export function inspectWorkload(text: string, target: WorkloadTarget, file: string): Inspection {
  return analyse(text, target, file).inspection;
}

function refuseUnknown(fields: PlacementFields, target: WorkloadTarget, file: string): never {
  const foreign = allFields(fields).filter((f) => isForeign(f, target));
  const lines = foreign.map(
    (f) =>
      `${f.field} is ${JSON.stringify(f.value)}, expected ${JSON.stringify(expectedValue(f, target, "primary"))} (primary) or ${JSON.stringify(expectedValue(f, target, "backup"))} (backup)`,
  );
  throw new ManifestRefusal(
    `${file}: placement matches neither side: ${lines.join("; ")}. Fix the manifest or the service's configured values.`,
    { file, fields: foreign.map((f) => ({ field: f.field, value: f.value })) },
  );
}

/**
 * Moves the workload to `to` by rewriting only the bytes of each changed value. Returns the
 * input string itself when nothing changes. Throws ManifestRefusal.
 */
export function patchWorkload(
  text: string,
  target: WorkloadTarget,
  to: Side,
  file: string,
): PatchResult {
  const { fields, inspection } = analyse(text, target, file);
  if (inspection.state === "unknown") refuseUnknown(fields, target, file);

  const changes = allFields(fields)
    .map((f) => ({ f, value: expectedValue(f, target, to) }))
    .filter(({ f, value }) => f.value !== value);
  const base = { before: inspection, warnings: inspection.warnings };
  if (changes.length === 0) return { ...base, text, changed: false, edits: [] };

  const after = applyReplacements(
    text,
    changes.map(({ f, value }) => ({
      start: f.node.range[0],
      end: f.node.range[1],
      text: renderLike(f.node, value),
    })),
  );
  const edits: FieldEdit[] = changes.map(({ f, value }) => ({
    field: f.field,
    from: f.value,
    to: value,
    line: lineAt(text, f.node.range[0]),
  }));

  verifyPatched(after, target, to, file);
  return { ...base, text: after, changed: true, edits };
}

/** Defence in depth: the patched text must parse and stand exactly on the requested side. */
function verifyPatched(after: string, target: WorkloadTarget, to: Side, file: string): void {
  let ok: boolean;
  try {
    ok = isAt(analyse(after, target, file).fields, target, to);
  } catch (cause) {
    throw new FailoverError(
      "internal",
      `patching ${file} produced a manifest that failed re-inspection`,
      {
        cause,
        details: { file },
      },
    );
  }
  if (!ok) {
    throw new FailoverError("internal", `patching ${file} did not put it on the ${to} side`, {
      details: { file },
    });
  }
}
