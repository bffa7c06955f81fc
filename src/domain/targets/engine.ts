import { FailoverError, ManifestRefusal } from "../errors.js";
import { renderLike } from "../manifest/render-scalar.js";
import { applyReplacements, lineAt } from "../manifest/source-edits.js";
import type { Side, TargetSpec } from "../service.js";
import type { WorkloadState } from "../state.js";
import { locateField } from "./field-locator.js";
import { resolveSubstitution } from "./flux-substitution.js";
import { locateHelmRelease } from "./helmrelease-locator.js";
import type { Located, LocatedValue } from "./types.js";
import { locateWorkload } from "./workload-locator.js";

/** A target with the repository path its file was found at. */
export interface PlacedTarget {
  readonly spec: TargetSpec;
  readonly path: string;
}

export interface FieldEdit {
  readonly file: string;
  readonly field: string;
  readonly from: string;
  readonly to: string;
  /** 1-based line of the value in the file before the edit. */
  readonly line: number;
}

export interface ObservedValue {
  readonly file: string;
  readonly field: string;
  readonly role: LocatedValue["role"];
  readonly value: string;
}

export interface ServiceInspection {
  readonly state: WorkloadState;
  readonly observed: readonly ObservedValue[];
  readonly warnings: readonly string[];
}

export interface FileEdit {
  readonly path: string;
  readonly before: string;
  readonly after: string;
  readonly edits: readonly FieldEdit[];
}

export interface ServicePatch {
  readonly before: ServiceInspection;
  /** Only files whose text changes; empty when already on the requested side. */
  readonly files: readonly FileEdit[];
}

/** The files a service's targets need, for reading them all in one repository read. */
export interface TargetFiles {
  readonly texts: ReadonlyMap<string, string | null>;
  /** Paths (present in `texts`) that may hold the Flux Kustomizations applying the targets. */
  readonly kustomizations: readonly string[];
}

function locate(target: PlacedTarget, text: string): Located {
  switch (target.spec.type) {
    case "workload":
      return locateWorkload(text, target.path, target.spec.workload);
    case "helmrelease":
      return locateHelmRelease(text, target.path, target.spec.release);
    case "field":
      return locateField(text, target.path, target.spec.target);
  }
}

function textOf(files: TargetFiles, path: string): string {
  const text = files.texts.get(path);
  if (text === undefined || text === null) {
    throw new FailoverError("not_found", `${path} does not exist in the repository`, {
      details: { file: path },
    });
  }
  return text;
}

/** Every value that places the service, substitutions resolved, each byte range once. */
function locateAll(files: TargetFiles, targets: readonly PlacedTarget[]) {
  const values: LocatedValue[] = [];
  const warnings: string[] = [];
  const candidates = files.kustomizations.flatMap((path) => {
    const text = files.texts.get(path);
    return typeof text === "string" ? [{ path, text }] : [];
  });
  for (const target of targets) {
    const found = locate(target, textOf(files, target.path));
    values.push(...found.values);
    warnings.push(...found.warnings);
    for (const ref of found.substitutions) values.push(resolveSubstitution(ref, candidates));
  }
  const seen = new Map<string, LocatedValue>();
  for (const v of values) {
    const key = `${v.file}\u0000${v.scalar.range[0]}`;
    const earlier = seen.get(key);
    if (earlier !== undefined && (earlier.primary !== v.primary || earlier.backup !== v.backup)) {
      throw new ManifestRefusal(
        `${v.file}: ${v.field} is used by two targets with different values (${earlier.primary}/${earlier.backup} and ${v.primary}/${v.backup}). Give each its own variable or field.`,
        { file: v.file, field: v.field },
      );
    }
    seen.set(key, v);
  }
  return { values: [...seen.values()], warnings: [...new Set(warnings)] };
}

function stateOf(values: readonly LocatedValue[]): WorkloadState {
  if (values.some((v) => v.value !== v.primary && v.value !== v.backup)) return "unknown";
  if (values.every((v) => v.value === v.primary)) return "primary";
  if (values.every((v) => v.value === v.backup)) return "backup";
  return "mixed";
}

function inspection(
  values: readonly LocatedValue[],
  warnings: readonly string[],
): ServiceInspection {
  return {
    state: stateOf(values),
    observed: values.map((v) => ({ file: v.file, field: v.field, role: v.role, value: v.value })),
    warnings,
  };
}

/** Where a service stands across all its files (unknown is a state). Throws ManifestRefusal. */
export function inspectTargets(
  files: TargetFiles,
  targets: readonly PlacedTarget[],
): ServiceInspection {
  const { values, warnings } = locateAll(files, targets);
  return inspection(values, warnings);
}

/**
 * Moves every value of the service to `to`, rewriting only those values' bytes, in as many
 * files as they live in. Refuses an unknown state, naming each foreign value.
 */
export function patchTargets(
  files: TargetFiles,
  targets: readonly PlacedTarget[],
  to: Side,
): ServicePatch {
  const { values, warnings } = locateAll(files, targets);
  const before = inspection(values, warnings);
  if (before.state === "unknown") {
    const foreign = values.filter((v) => v.value !== v.primary && v.value !== v.backup);
    throw new ManifestRefusal(
      `placement matches neither side: ${foreign
        .map(
          (v) =>
            `${v.file}: ${v.field} is ${JSON.stringify(v.value)}, expected ${JSON.stringify(v.primary)} (primary) or ${JSON.stringify(v.backup)} (backup)`,
        )
        .join("; ")}. Fix the manifest or the service's configured values.`,
      { fields: foreign.map((v) => ({ file: v.file, field: v.field, value: v.value })) },
    );
  }
  const byFile = new Map<string, LocatedValue[]>();
  for (const v of values) {
    if (v.value === v[to]) continue;
    byFile.set(v.file, [...(byFile.get(v.file) ?? []), v]);
  }
  const edited: FileEdit[] = [...byFile.entries()].map(([path, changes]) => {
    const text = textOf(files, path);
    const after = applyReplacements(
      text,
      changes.map((v) => ({
        start: v.scalar.range[0],
        end: v.scalar.range[1],
        text: renderLike(v.scalar, v[to]),
      })),
    );
    const edits = changes
      .map((v) => ({
        file: path,
        field: v.field,
        from: v.value,
        to: v[to],
        line: lineAt(text, v.scalar.range[0]),
      }))
      .sort((a, b) => a.line - b.line);
    return { path, before: text, after, edits };
  });
  verify(files, targets, edited, to);
  return { before, files: edited.sort((a, b) => a.path.localeCompare(b.path)) };
}

/** Defence in depth: the patched files must parse and put every value on `to`. */
function verify(
  files: TargetFiles,
  targets: readonly PlacedTarget[],
  edited: readonly FileEdit[],
  to: Side,
) {
  if (edited.length === 0) return;
  const texts = new Map(files.texts);
  for (const f of edited) texts.set(f.path, f.after);
  let state: WorkloadState;
  try {
    state = stateOf(locateAll({ texts, kustomizations: files.kustomizations }, targets).values);
  } catch (cause) {
    throw new FailoverError("internal", "a patched file failed re-inspection", { cause });
  }
  if (state !== to) {
    throw new FailoverError("internal", `patching did not put the service on ${to} (${state})`);
  }
}
