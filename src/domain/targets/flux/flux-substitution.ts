import { isMap, isSeq, type YAMLMap } from "yaml";
import { ManifestRefusal } from "../../errors.js";
import { childPath } from "../../yaml/field-path.js";
import { parseManifest } from "../../yaml/parse-manifest.js";
import { editableString, mapAt, stringOf, valueAt, type Where } from "../../yaml/yaml-nodes.js";
import { describeObject, isFluxKustomization, mapRoots, metadataOf } from "../k8s-objects.js";
import type { LocatedValue, SubstitutionRef } from "../types.js";
import { directoryOf, normalizeRepoPath, pathCovers } from "./repo-paths.js";

export { normalizeRepoPath, pathCovers };

/** The Flux Kustomization a definition was found in: what it builds is where its uses are. */
export interface KustomizationInfo {
  readonly file: string;
  readonly label: string;
  readonly specPath: string;
  readonly components: readonly string[];
}

interface Definition {
  readonly kustomization: KustomizationInfo;
  readonly file: string;
  readonly text: string;
  readonly node: unknown;
  readonly field: string;
  readonly label: string;
}

interface Source {
  readonly kustomization: KustomizationInfo;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly from: string;
}

/**
 * The scalar that gives a `${VAR}` its value: `spec.postBuild.substitute.VAR` of the one Flux
 * Kustomization whose `spec.path` covers the file (Flux lets inline `substitute` override
 * `substituteFrom`), else `data.VAR` of a ConfigMap named in `substituteFrom` when that
 * ConfigMap is among the candidates; with the Flux Kustomization it was found through (what it
 * builds is where the variable's other uses are). Refuses none, several, Secrets and
 * non-literal values.
 */
export function resolveDefinition(
  ref: SubstitutionRef,
  candidates: readonly { path: string; text: string }[],
): { value: LocatedValue; kustomization: KustomizationInfo } {
  const dir = directoryOf(ref.file);
  const variable = ref.variable;
  const looked: string[] = [];
  const definitions: Definition[] = [];
  const sources: Source[] = [];
  const parsed = candidates.map((c) => ({ ...c, roots: mapRoots(parseManifest(c.text, c.path)) }));

  for (const candidate of parsed) {
    for (const root of candidate.roots) {
      if (!isFluxKustomization(root)) continue;
      const spec = valueAt(root, "spec");
      const specPath = isMap(spec) ? (stringOf(valueAt(spec, "path")) ?? "") : "";
      const label = `${candidate.path} (${describeObject(root)}, spec.path ${specPath || "./"})`;
      looked.push(label);
      const kustomization: KustomizationInfo = {
        file: candidate.path,
        label,
        specPath,
        components: isMap(spec) ? componentsOf(spec) : [],
      };
      if (!isMap(spec) || !pathCovers(specPath, dir)) continue;
      const postBuild = valueAt(spec, "postBuild");
      if (!isMap(postBuild)) continue;
      const substitute = valueAt(postBuild, "substitute");
      if (isMap(substitute) && valueAt(substitute, variable) !== undefined) {
        definitions.push(substituteDefinition(candidate, root, variable, kustomization));
        continue;
      }
      const from = valueAt(postBuild, "substituteFrom");
      if (isSeq(from)) {
        for (const item of from.items) {
          if (!isMap(item)) continue;
          const kind = stringOf(valueAt(item, "kind")) ?? "ConfigMap";
          const name = stringOf(valueAt(item, "name"));
          if (name === undefined) continue;
          sources.push({
            kustomization,
            kind,
            name,
            namespace: metadataOf(root).namespace,
            from: label,
          });
        }
      }
    }
  }

  const where = `${ref.file}: ${ref.field} is \${${variable}}`;
  if (definitions.length > 1) {
    throw new ManifestRefusal(
      `${where}, which ${definitions.length} Flux Kustomizations covering the file define (${definitions.map((d) => `${d.label} ${d.field}`).join("; ")}); failover cannot tell which one Flux applies to it. Define it in one of them only, or use a "field" target on the one that takes effect.`,
      {
        file: ref.file,
        field: ref.field,
        variable,
        ambiguous: true,
        definitions: definitions.map((d) => d.file),
      },
    );
  }
  const [definition] = definitions;
  if (definition !== undefined) return located(ref, definition);

  if (sources.length > 0) {
    const configMaps = configMapDefinitions(parsed, sources, variable);
    if (configMaps.length > 1) {
      throw new ManifestRefusal(
        `${where}, which several ConfigMaps named in substituteFrom define (${configMaps.map((d) => `${d.label} ${d.field}`).join("; ")}); failover cannot tell which one wins. Define it in one place, or use a "field" target on the one that takes effect.`,
        { file: ref.file, field: ref.field, variable, ambiguous: true },
      );
    }
    const [configMap] = configMaps;
    if (configMap !== undefined) return located(ref, configMap);
    const named = [...new Set(sources.map((s) => `${s.kind} ${s.name}`))].join(", ");
    throw new ManifestRefusal(
      `${where}, which no Flux Kustomization covering the file sets in spec.postBuild.substitute; it can only come from spec.postBuild.substituteFrom (${named}), which failover cannot edit${sources.some((s) => s.kind === "Secret") ? " (Secrets are usually encrypted)" : ""}. Set ${variable} in the Kustomization's spec.postBuild.substitute, or use a "field" target on the file that holds it.`,
      { file: ref.file, field: ref.field, variable, sources: named },
    );
  }
  throw new ManifestRefusal(
    `${where}, but ${variable} is not defined in spec.postBuild.substitute of any Flux Kustomization whose spec.path covers ${dir || "the repository root"} (looked at: ${looked.join("; ") || "no Flux Kustomizations"}). Define it there, name the file holding that Kustomization as the service's flux_kustomization, or use a "field" target on the file that sets the value.`,
    { file: ref.file, field: ref.field, variable, candidates: candidates.map((c) => c.path) },
  );
}

function componentsOf(spec: YAMLMap): string[] {
  const list = valueAt(spec, "components");
  return isSeq(list) ? list.items.flatMap((i) => stringOf(i) ?? []) : [];
}

function substituteDefinition(
  candidate: { path: string; text: string },
  root: YAMLMap,
  variable: string,
  kustomization: KustomizationInfo,
): Definition {
  const label = kustomization.label;
  const where: Where = { file: candidate.path };
  // Walk again with the edit-path checks (anchors, aliases, merge keys are refused).
  const spec = mapAt(root, "spec", "spec", where, true);
  const postBuild = spec && mapAt(spec, "postBuild", "spec.postBuild", where, true);
  const substitute =
    postBuild && mapAt(postBuild, "substitute", "spec.postBuild.substitute", where, true);
  const field = childPath("spec.postBuild.substitute", variable);
  return {
    kustomization,
    file: candidate.path,
    text: candidate.text,
    node: substitute && valueAt(substitute, variable),
    field,
    label,
  };
}

function configMapDefinitions(
  parsed: readonly { path: string; text: string; roots: YAMLMap[] }[],
  sources: readonly Source[],
  variable: string,
): Definition[] {
  const wanted = sources.filter((s) => s.kind === "ConfigMap");
  const found: Definition[] = [];
  for (const candidate of parsed) {
    for (const root of candidate.roots) {
      if (stringOf(valueAt(root, "kind")) !== "ConfigMap") continue;
      const { name, namespace } = metadataOf(root);
      const source = wanted.find(
        (s) =>
          s.name === name &&
          (s.namespace === undefined || namespace === undefined || s.namespace === namespace),
      );
      if (source === undefined) continue;
      const data = valueAt(root, "data");
      if (!isMap(data) || valueAt(data, variable) === undefined) continue;
      const where: Where = { file: candidate.path };
      const dataMap = mapAt(root, "data", "data", where, true);
      const field = childPath("data", variable);
      found.push({
        kustomization: source.kustomization,
        file: candidate.path,
        text: candidate.text,
        node: dataMap && valueAt(dataMap, variable),
        field,
        label: `${candidate.path} (${describeObject(root)})`,
      });
    }
  }
  return found;
}

function located(
  ref: SubstitutionRef,
  d: Definition,
): { value: LocatedValue; kustomization: KustomizationInfo } {
  const scalar = editableString(d.node, d.field, d.text, { file: d.file });
  return {
    value: {
      file: d.file,
      field: d.field,
      role: ref.role,
      value: scalar.value,
      primary: ref.primary,
      backup: ref.backup,
      scalar,
    },
    kustomization: d.kustomization,
  };
}

/**
 * The variables Flux substitutes in `file`, as far as the repository says: those of the
 * covering Flux Kustomization with the deepest spec.path (inline `substitute` over
 * `substituteFrom` ConfigMaps found among the candidates). Only literal string values.
 */
export function substitutionVars(
  file: string,
  candidates: readonly { path: string; text: string }[],
): ReadonlyMap<string, string> {
  const dir = directoryOf(file);
  let best: { root: YAMLMap; depth: number } | undefined;
  const configMaps: YAMLMap[] = [];
  for (const c of candidates) {
    let roots: YAMLMap[];
    try {
      roots = mapRoots(parseManifest(c.text, c.path));
    } catch {
      continue;
    }
    for (const root of roots) {
      if (stringOf(valueAt(root, "kind")) === "ConfigMap") configMaps.push(root);
      if (!isFluxKustomization(root)) continue;
      const spec = valueAt(root, "spec");
      if (!isMap(spec)) continue;
      const specPath = stringOf(valueAt(spec, "path")) ?? "";
      if (!pathCovers(specPath, dir)) continue;
      const depth = normalizeRepoPath(specPath).split("/").filter(Boolean).length;
      if (best === undefined || depth > best.depth) best = { root, depth };
    }
  }
  const vars = new Map<string, string>();
  if (best === undefined) return vars;
  const spec = valueAt(best.root, "spec");
  const postBuild = isMap(spec) ? valueAt(spec, "postBuild") : undefined;
  if (!isMap(postBuild)) return vars;
  const from = valueAt(postBuild, "substituteFrom");
  if (isSeq(from)) {
    for (const item of from.items) {
      if (!isMap(item) || (stringOf(valueAt(item, "kind")) ?? "ConfigMap") !== "ConfigMap")
        continue;
      const name = stringOf(valueAt(item, "name"));
      const cm = configMaps.find((m) => metadataOf(m).name === name);
      const data = cm && valueAt(cm, "data");
      if (!isMap(data)) continue;
      for (const pair of data.items) {
        const key = stringOf(pair.key);
        const value = literalOf(pair.value);
        if (key !== undefined && value !== undefined) vars.set(key, value);
      }
    }
  }
  const substitute = valueAt(postBuild, "substitute");
  if (isMap(substitute)) {
    for (const pair of substitute.items) {
      const key = stringOf(pair.key);
      const value = literalOf(pair.value);
      if (key !== undefined && value !== undefined) vars.set(key, value);
    }
  }
  return vars;
}

/** Flux uses substitute values as they are: a templated one is not a value failover can use. */
function literalOf(node: unknown): string | undefined {
  const value = stringOf(node);
  return value === undefined || /\$\{|\{\{/.test(value) ? undefined : value;
}

/** The Flux Kustomizations a candidate file declares (a file that does not parse has none). */
export function fluxKustomizationsIn(candidate: {
  path: string;
  text: string;
}): { name: string; specPath: string; components: string[] }[] {
  let roots: YAMLMap[];
  try {
    roots = mapRoots(parseManifest(candidate.text, candidate.path));
  } catch {
    return [];
  }
  return roots.flatMap((root) => {
    if (!isFluxKustomization(root)) return [];
    const spec = valueAt(root, "spec");
    if (!isMap(spec)) return [];
    return [
      {
        name: metadataOf(root).name ?? "(unnamed)",
        specPath: stringOf(valueAt(spec, "path")) ?? "",
        components: componentsOf(spec),
      },
    ];
  });
}
