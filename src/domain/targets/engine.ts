import { FailoverError, ManifestRefusal } from "../errors.js";
import { type OriginalValue, parseOriginals, renderOriginals } from "../originals.js";
import type { Side, TargetSpec } from "../service.js";
import type { WorkloadState } from "../state.js";
import { fieldAt } from "../yaml/field-at.js";
import { withParseMemo } from "../yaml/parse-manifest.js";
import { renderLike } from "../yaml/render-scalar.js";
import { applyReplacements, lineAt } from "../yaml/source-edits.js";
import { locateField } from "./field/field-locator.js";
import { buildSet } from "./flux/flux-build.js";
import {
  fluxKustomizationsIn,
  type KustomizationInfo,
  resolveDefinition,
  substitutionVars,
} from "./flux/flux-substitution.js";
import { evaluateSubstitution, variablesIn, variableUses } from "./flux/flux-vars.js";
import { locateHelmRelease } from "./helmrelease/helmrelease-locator.js";
import type { Located, LocatedValue, SubstitutionRef } from "./types.js";
import { locateWorkload } from "./workload/workload-locator.js";

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
  /** Warnings that matter when leaving the primary node (shown in a promote's plan). */
  readonly promoteWarnings: readonly string[];
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
  /**
   * Paths (present in `texts`) that may hold Flux objects the targets depend on: the Flux
   * Kustomizations applying them, their substituteFrom ConfigMaps, chart sources.
   */
  readonly kustomizations: readonly string[];
  /**
   * Every file of the branch. Without it what a Flux Kustomization builds cannot be seen, so
   * a `${VAR}` is never changed where it is defined (it is written in place instead).
   */
  readonly tree?: readonly string[];
  /** Files that exist but could not be read (binary, too large), with why. */
  readonly unreadable?: ReadonlyMap<string, string>;
  /**
   * The service's record of templated values a promote replaced (domain/originals.ts); its
   * text, when it exists, is in `texts`. Without it templated values are refused.
   */
  readonly originals?: { readonly service: string; readonly path: string };
}

function locate(target: PlacedTarget, text: string, related: readonly Related[]): Located {
  switch (target.spec.type) {
    case "workload":
      return locateWorkload(text, target.path, target.spec.workload);
    case "helmrelease":
      return locateHelmRelease(text, target.path, target.spec.release, related);
    case "field":
      return locateField(text, target.path, target.spec.target);
  }
}

type Related = { readonly path: string; readonly text: string };

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
  const promoteWarnings: string[] = [];
  const candidates = files.kustomizations.flatMap((path) => {
    const text = files.texts.get(path);
    return typeof text === "string" ? [{ path, text }] : [];
  });
  // A HelmRelease's chart source may be in any file that was read with it.
  const read = [...files.texts.entries()].flatMap(([path, text]) =>
    typeof text === "string" ? [{ path, text }] : [],
  );
  const refs: SubstitutionRef[] = [];
  for (const target of targets) {
    const found = locate(target, textOf(files, target.path), read);
    values.push(...found.values);
    warnings.push(...found.warnings);
    promoteWarnings.push(...(found.promoteWarnings ?? []));
    refs.push(...found.substitutions);
  }
  for (const ref of refs) {
    const resolved = resolveRef(ref, refs, candidates, files);
    values.push(resolved.value);
    warnings.push(...resolved.warnings);
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
  return {
    values: [...seen.values()],
    warnings: [...new Set(warnings)],
    promoteWarnings: [...new Set(promoteWarnings)],
  };
}

/**
 * The value a `${...}` stands for, and where to move it. An exact `${VAR}` is moved where VAR
 * is defined only when every use of VAR in what the defining Flux Kustomization builds is a
 * value this failover moves: changing a variable that also names a PVC, a VolSync object or
 * anything else would rename it, and with `prune: true` Flux deletes the original. Otherwise
 * (or for text around a variable, or defaults) the value is evaluated and written as a
 * literal in place, its template kept for the demote; that is refused only when the file is
 * applied with different variables by several Kustomizations, or the value cannot be
 * evaluated.
 */
function resolveRef(
  ref: SubstitutionRef,
  refs: readonly SubstitutionRef[],
  candidates: readonly Related[],
  files: TargetFiles,
): { value: LocatedValue; warnings: string[] } {
  let definitionError: ManifestRefusal | undefined;
  let shared:
    | { name: string; definedAt: string; value: string; uses: readonly string[] }
    | undefined;
  for (const variable of ref.exact ? [ref.variable] : variablesIn(ref.scalar.value)) {
    try {
      const { value, kustomization } = resolveDefinition({ ...ref, variable }, candidates);
      if (!ref.exact) continue;
      const others =
        value.file === kustomization.file
          ? otherUses(variable, kustomization, refs, files)
          : // A substituteFrom ConfigMap is there to be shared: other Kustomizations read it.
            [`every Flux Kustomization that reads ${value.file} through substituteFrom`];
      if (others.length === 0) return { value, warnings: [] };
      shared = {
        name: variable,
        definedAt: `${value.file} ${value.field}`,
        value: value.value,
        uses: others,
      };
    } catch (error) {
      if (!(error instanceof ManifestRefusal)) throw error;
      if (error.details?.ambiguous === true) throw error;
      definitionError ??= error;
    }
  }
  const raw = ref.scalar.value;
  const vars = substitutionVars(ref.file, candidates);
  // An exact ${VAR} is what its definition says, wherever that Kustomization sits.
  const evaluated = shared?.value ?? evaluateSubstitution(raw, vars);
  if (evaluated === undefined) {
    if (definitionError !== undefined) throw definitionError;
    const unset = variablesIn(raw).filter((v) => !vars.has(v));
    throw new ManifestRefusal(
      `${ref.file}: ${ref.field} is ${JSON.stringify(raw)}, which failover cannot evaluate: ${unset.join(", ") || "it"} is set in no spec.postBuild.substitute (or substituteFrom ConfigMap) of the Flux Kustomization covering the file, and has no default. Set it there, or write the literal value.`,
      { file: ref.file, field: ref.field, value: raw },
    );
  }
  const builders = buildersOf(ref.file, candidates, files);
  if (builders.length > 1) {
    throw new ManifestRefusal(
      `${ref.file}: ${ref.field} is ${JSON.stringify(raw)}, and ${builders.length} Flux Kustomizations build this file (${builders.join("; ")}), so it may stand for different values; a literal written here would change them all. Give each its own copy of the value (a patch in each Kustomization), or a dedicated variable set in each.`,
      { file: ref.file, field: ref.field, value: raw },
    );
  }
  const warnings =
    shared === undefined
      ? []
      : [
          `${shared.definedAt}: \${${shared.name}} is also used by ${listed(shared.uses)}; failover does not change ${shared.name} (that would rename those too) and writes the value in place at ${ref.file} ${ref.field} instead (a demote writes \${${shared.name}} back). To move it in ks.yaml, give the claim or node a variable of its own, e.g. \${${shared.name}_${ref.role === "node" ? "NODE" : "CLAIM"}:=${evaluated}}.`,
        ];
  return {
    value: {
      file: ref.file,
      field: ref.field,
      role: ref.role,
      value: evaluated,
      primary: ref.primary,
      backup: ref.backup,
      scalar: ref.scalar,
      template: raw,
    },
    warnings,
  };
}

/** The Flux Kustomizations among the candidates whose build includes `file` ("file (name)"). */
function buildersOf(file: string, candidates: readonly Related[], files: TargetFiles): string[] {
  if (files.tree === undefined) return [];
  const found: string[] = [];
  for (const c of candidates) {
    for (const k of fluxKustomizationsIn(c)) {
      const build = buildSet(k.specPath, k.components, files.tree, files.texts);
      if (build.paths.includes(file)) found.push(`${c.path} (${k.name})`);
    }
  }
  return [...new Set(found)];
}

function listed(items: readonly string[], most = 5): string {
  const shown = items.slice(0, most).join("; ");
  return items.length > most ? `${shown} and ${items.length - most} more` : shown;
}

/**
 * Uses of `${variable}` in what `kustomization` builds, other than this service's own values:
 * "file field" each, or what could not be seen (then nothing may be assumed unused).
 */
function otherUses(
  variable: string,
  kustomization: KustomizationInfo,
  refs: readonly SubstitutionRef[],
  files: TargetFiles,
): string[] {
  if (files.tree === undefined) return ["files failover did not list"];
  const build = buildSet(kustomization.specPath, kustomization.components, files.tree, files.texts);
  const others: string[] = [
    ...build.hidden.map((h) => `what it cannot see (${h})`),
    ...build.unread.map((p) => `${p} (not read)`),
  ];
  for (const path of build.paths) {
    const why = files.unreadable?.get(path);
    if (why !== undefined) others.push(`${path} (cannot be read: ${why})`);
    const text = files.texts.get(path);
    if (typeof text !== "string") continue;
    for (const at of variableUses(text, variable)) {
      const ours = refs.some(
        (r) => r.file === path && at >= r.scalar.range[0] && at < r.scalar.range[1],
      );
      if (!ours) others.push(`${path} ${fieldAt(text, path, at)}`);
    }
  }
  return others;
}

function stateOf(values: readonly LocatedValue[]): WorkloadState {
  if (values.some((v) => v.value !== v.primary && v.value !== v.backup)) return "unknown";
  if (values.every((v) => v.value === v.primary)) return "primary";
  if (values.every((v) => v.value === v.backup)) return "backup";
  return "mixed";
}

function inspection(located: ReturnType<typeof locateAll>): ServiceInspection {
  const { values, warnings, promoteWarnings } = located;
  return {
    state: stateOf(values),
    observed: values.map((v) => ({ file: v.file, field: v.field, role: v.role, value: v.value })),
    warnings,
    promoteWarnings,
  };
}

/** Where a service stands across all its files (unknown is a state). Throws ManifestRefusal. */
export function inspectTargets(
  files: TargetFiles,
  targets: readonly PlacedTarget[],
): ServiceInspection {
  return withParseMemo(() => inspection(locateAll(files, targets)));
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
  return withParseMemo(() => patchWith(files, targets, to));
}

function patchWith(files: TargetFiles, targets: readonly PlacedTarget[], to: Side): ServicePatch {
  const located = locateAll(files, targets);
  const { values } = located;
  const before = inspection(located);
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
  const record = files.originals;
  const recordText = record === undefined ? undefined : files.texts.get(record.path);
  const recorded =
    record === undefined || typeof recordText !== "string" || byFile.size === 0
      ? []
      : parseOriginals(recordText, record.path, record.service);
  const replaced: OriginalValue[] = [];
  const restored: OriginalValue[] = [];
  const moved: { file: string; field: string }[] = [];
  const edited: FileEdit[] = [...byFile.entries()].map(([path, changes]) => {
    const text = textOf(files, path);
    const after = applyReplacements(
      text,
      changes.map((v) => {
        const [start, end] = v.scalar.range;
        if (v.template !== undefined) {
          if (record === undefined) {
            throw new FailoverError(
              "internal",
              `${path}: ${v.field} is templated and there is no record to keep it in`,
            );
          }
          replaced.push({
            file: path,
            field: v.field,
            text: text.slice(start, end),
            side: to === "backup" ? "primary" : "backup",
            written: v[to],
          });
        }
        const original = recorded.find(
          (r) => r.file === path && r.field === v.field && r.side === to && r.written === v.value,
        );
        moved.push({ file: path, field: v.field });
        if (original !== undefined) restored.push(original);
        return { start, end, text: original?.text ?? renderLike(v.scalar, v[to]) };
      }),
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
  verify(files, targets, edited, to, restored);
  // Every value that moved drops its old entry (used, or made stale by a hand edit since);
  // values replaced now are recorded afresh. An empty record is not created.
  const kept = recorded.filter((r) => !moved.some((m) => m.file === r.file && m.field === r.field));
  if (record !== undefined && (replaced.length > 0 || kept.length !== recorded.length)) {
    const after = renderOriginals(record.service, [...kept, ...replaced]);
    if (after !== recordText) {
      edited.push({ path: record.path, before: recordText ?? "", after, edits: [] });
    }
  }
  return { before, files: edited.sort((a, b) => a.path.localeCompare(b.path)) };
}

/** Defence in depth: the patched files must parse and put every value on `to`. */
function verify(
  files: TargetFiles,
  targets: readonly PlacedTarget[],
  edited: readonly FileEdit[],
  to: Side,
  restored: readonly OriginalValue[],
) {
  if (edited.length === 0) return;
  const texts = new Map(files.texts);
  for (const f of edited) texts.set(f.path, f.after);
  let state: WorkloadState;
  try {
    state = stateOf(locateAll({ ...files, texts }, targets).values);
  } catch (cause) {
    if (restored.length > 0) throw restoreRefusal(files, restored, to, cause);
    throw new FailoverError("internal", "a patched file failed re-inspection", { cause });
  }
  if (state !== to) {
    if (restored.length > 0) throw restoreRefusal(files, restored, to, undefined);
    throw new FailoverError("internal", `patching did not put the service on ${to} (${state})`);
  }
}

/** A recorded template written back no longer gives the side's value (something changed since). */
function restoreRefusal(
  files: TargetFiles,
  restored: readonly OriginalValue[],
  to: Side,
  cause: unknown,
): ManifestRefusal {
  const what = restored.map((r) => `${r.file} ${r.field}: ${r.text}`).join("; ");
  const why = cause instanceof Error ? ` (${cause.message})` : "";
  return new ManifestRefusal(
    `writing back the recorded templated values (${what}) would not put the service on ${to}${why}: something they depend on changed since. Edit ${files.originals?.path ?? "the originals record"} or delete it (the failover then writes literal values).`,
    { file: files.originals?.path },
  );
}
