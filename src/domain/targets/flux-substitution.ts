import { isMap, isSeq, type YAMLMap } from "yaml";
import { ManifestRefusal } from "../errors.js";
import { childPath } from "../manifest/field-path.js";
import { parseManifest } from "../manifest/parse-manifest.js";
import { editableString, mapAt, stringOf, valueAt, type Where } from "../manifest/yaml-nodes.js";
import type { LocatedValue, SubstitutionRef } from "./types.js";
import { describeObject, isFluxKustomization, mapRoots, metadataOf } from "./value-helpers.js";

/** A repository path without `./`, `.`/`..` segments, doubled or trailing slashes ("" is the root). */
export function normalizeRepoPath(path: string): string {
  const out: string[] = [];
  for (const part of path.replace(/\\/g, "/").split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out.join("/");
}

function directoryOf(file: string): string {
  const normalized = normalizeRepoPath(file);
  const slash = normalized.lastIndexOf("/");
  return slash === -1 ? "" : normalized.slice(0, slash);
}

/** True when a Flux Kustomization with `spec.path` applies files of `dir` (its tree). */
export function pathCovers(specPath: string, dir: string): boolean {
  const base = normalizeRepoPath(specPath);
  return base === "" || dir === base || dir.startsWith(`${base}/`);
}

interface Definition {
  readonly file: string;
  readonly text: string;
  readonly node: unknown;
  readonly field: string;
  readonly label: string;
}

interface Source {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly from: string;
}

/**
 * The scalar that gives a `${VAR}` its value: `spec.postBuild.substitute.VAR` of the one Flux
 * Kustomization whose `spec.path` covers the file (Flux lets inline `substitute` override
 * `substituteFrom`), else `data.VAR` of a ConfigMap named in `substituteFrom` when that
 * ConfigMap is among the candidates. Refuses none, several, Secrets and non-literal values.
 */
export function resolveSubstitution(
  ref: SubstitutionRef,
  candidates: readonly { path: string; text: string }[],
): LocatedValue {
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
      if (!isMap(spec) || !pathCovers(specPath, dir)) continue;
      const postBuild = valueAt(spec, "postBuild");
      if (!isMap(postBuild)) continue;
      const substitute = valueAt(postBuild, "substitute");
      if (isMap(substitute) && valueAt(substitute, variable) !== undefined) {
        definitions.push(substituteDefinition(candidate, root, variable, label));
        continue;
      }
      const from = valueAt(postBuild, "substituteFrom");
      if (isSeq(from)) {
        for (const item of from.items) {
          if (!isMap(item)) continue;
          const kind = stringOf(valueAt(item, "kind")) ?? "ConfigMap";
          const name = stringOf(valueAt(item, "name"));
          if (name === undefined) continue;
          sources.push({ kind, name, namespace: metadataOf(root).namespace, from: label });
        }
      }
    }
  }

  const where = `${ref.file}: ${ref.field} is \${${variable}}`;
  if (definitions.length > 1) {
    throw new ManifestRefusal(
      `${where}, which ${definitions.length} Flux Kustomizations covering the file define (${definitions.map((d) => `${d.label} ${d.field}`).join("; ")}); failover cannot tell which one Flux applies to it. Define it in one of them only, or use a "field" target on the one that takes effect.`,
      { file: ref.file, field: ref.field, variable, definitions: definitions.map((d) => d.file) },
    );
  }
  const [definition] = definitions;
  if (definition !== undefined) return located(ref, definition);

  if (sources.length > 0) {
    const configMaps = configMapDefinitions(parsed, sources, variable);
    if (configMaps.length > 1) {
      throw new ManifestRefusal(
        `${where}, which several ConfigMaps named in substituteFrom define (${configMaps.map((d) => `${d.label} ${d.field}`).join("; ")}); failover cannot tell which one wins. Define it in one place, or use a "field" target on the one that takes effect.`,
        { file: ref.file, field: ref.field, variable },
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
    `${where}, but ${variable} is not defined in spec.postBuild.substitute of any Flux Kustomization whose spec.path covers ${dir || "the repository root"} (looked at: ${looked.join("; ") || "no Flux Kustomizations"}). Define it there, list the file holding that Kustomization in the service's config, or use a "field" target on the file that sets the value.`,
    { file: ref.file, field: ref.field, variable, candidates: candidates.map((c) => c.path) },
  );
}

function substituteDefinition(
  candidate: { path: string; text: string },
  root: YAMLMap,
  variable: string,
  label: string,
): Definition {
  const where: Where = { file: candidate.path };
  // Walk again with the edit-path checks (anchors, aliases, merge keys are refused).
  const spec = mapAt(root, "spec", "spec", where, true);
  const postBuild = spec && mapAt(spec, "postBuild", "spec.postBuild", where, true);
  const substitute =
    postBuild && mapAt(postBuild, "substitute", "spec.postBuild.substitute", where, true);
  const field = childPath("spec.postBuild.substitute", variable);
  return {
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
      const named = wanted.some(
        (s) =>
          s.name === name &&
          (s.namespace === undefined || namespace === undefined || s.namespace === namespace),
      );
      if (!named) continue;
      const data = valueAt(root, "data");
      if (!isMap(data) || valueAt(data, variable) === undefined) continue;
      const where: Where = { file: candidate.path };
      const dataMap = mapAt(root, "data", "data", where, true);
      const field = childPath("data", variable);
      found.push({
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

function located(ref: SubstitutionRef, d: Definition): LocatedValue {
  const scalar = editableString(d.node, d.field, d.text, { file: d.file });
  return {
    file: d.file,
    field: d.field,
    role: ref.role,
    value: scalar.value,
    primary: ref.primary,
    backup: ref.backup,
    scalar,
  };
}
