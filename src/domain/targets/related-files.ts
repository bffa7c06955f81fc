import { isMap, isSeq } from "yaml";
import { fluxKustomizationCandidates } from "../manifest-path.js";
import { parseManifest } from "../yaml/parse-manifest.js";
import { stringOf, valueAt } from "../yaml/yaml-nodes.js";
import { buildSet } from "./flux/flux-build.js";
import { variablesIn } from "./flux/flux-vars.js";
import { directoryOf, pathCovers } from "./flux/repo-paths.js";
import { isFluxKustomization, isHelmRelease, mapRoots } from "./k8s-objects.js";

const YAML = /\.ya?ml$/;
const CHART_SOURCE_FILE = /(oci-?repositor|helm-?chart|helm-?repositor)/i;

/**
 * Besides the target files, what a plan of them needs read, decided from what has been read
 * so far (call again with more texts until nothing new comes back):
 * - with `${...}` in a target: files that may hold the Flux Kustomizations applying it (near
 *   it, named like one, named after the app, or configured), the ConfigMaps their
 *   `substituteFrom` names, and everything those Kustomizations build (to find every other
 *   use of a variable);
 * - with `spec.chartRef` in a HelmRelease: files that may hold its OCIRepository/HelmChart.
 */
export function relatedFiles(input: {
  readonly targets: readonly string[];
  readonly texts: ReadonlyMap<string, string | null>;
  readonly tree: readonly string[];
  /** A configured file holding the service's Flux Kustomization. */
  readonly fluxKustomization?: string | undefined;
  /** Names the service's files may carry (service, workload, release). */
  readonly names: readonly string[];
  /** Text a failover back may write into the targets (the originals record). */
  readonly restorable?: string | null | undefined;
}): { kustomizations: string[]; related: string[] } {
  const { targets, texts, tree } = input;
  const targetTexts = targets.flatMap((p) => {
    const t = texts.get(p);
    return typeof t === "string" ? [{ path: p, text: t }] : [];
  });
  const kustomizations: string[] = [];
  const related = new Set<string>();
  const substituting =
    targetTexts.some((t) => t.text.includes("${")) || (input.restorable ?? "").includes("${");
  if (substituting) {
    const named = new Set([...input.names, ...targets.map(appFolderName)].filter((n) => n !== ""));
    const byName = tree.filter((f) => {
      const base = f.split("/").at(-1)?.replace(YAML, "");
      return YAML.test(f) && base !== undefined && named.has(base) && !targets.includes(f);
    });
    const configured = input.fluxKustomization === undefined ? [] : [input.fluxKustomization];
    kustomizations.push(
      ...new Set([...configured, ...fluxKustomizationCandidates(targets, tree), ...byName]),
    );
    const dirs = targets.map(directoryOf);
    const used = new Set(
      [...targetTexts.map((t) => t.text), input.restorable ?? ""].flatMap(variablesIn),
    );
    for (const path of kustomizations) {
      const text = texts.get(path);
      if (typeof text !== "string") continue;
      for (const root of safeRoots(text, path)) {
        if (!isFluxKustomization(root)) continue;
        const spec = valueAt(root, "spec");
        if (!isMap(spec)) continue;
        const specPath = stringOf(valueAt(spec, "path")) ?? "";
        const covers = dirs.some((d) => pathCovers(specPath, d));
        // Named after the app: it may build the targets from another folder (an overlay of a
        // shared base), and then a value written in place would change its build too.
        const named = byName.includes(path) || configured.includes(path);
        if (!covers && !named) continue;
        if (covers) {
          for (const name of substituteFromNames(spec)) {
            for (const f of tree) {
              if (YAML.test(f) && (f.split("/").at(-1) ?? "").includes(name)) {
                kustomizations.push(f);
              }
            }
          }
        }
        // A covering Kustomization's build matters where it defines a variable the targets use.
        if (!named && !definesAny(spec, used)) continue;
        const components = valueAt(spec, "components");
        const build = buildSet(
          specPath,
          isSeq(components) ? components.items.flatMap((i) => stringOf(i) ?? []) : [],
          tree,
          texts,
        );
        for (const p of build.paths) related.add(p);
      }
    }
  }
  for (const t of targetTexts) {
    for (const name of chartRefNames(t.text, t.path)) {
      for (const f of tree) {
        if (!YAML.test(f) || targets.includes(f)) continue;
        if (f.includes(name) || CHART_SOURCE_FILE.test(f.split("/").at(-1) ?? "")) related.add(f);
      }
    }
  }
  const unique = [...new Set(kustomizations)];
  for (const k of unique) related.delete(k);
  return { kustomizations: unique, related: [...related].slice(0, 600) };
}

/**
 * Whether what relatedFiles finds depends on the repository's file list: a `${...}` in a
 * target (or in what a failover back would restore) or a HelmRelease `chartRef`. Without the
 * list such a plan cannot see every use of a variable; other plans never need the list.
 */
export function needsFileList(input: {
  readonly targets: readonly string[];
  readonly texts: ReadonlyMap<string, string | null>;
  readonly restorable?: string | null | undefined;
}): boolean {
  if ((input.restorable ?? "").includes("${")) return true;
  return input.targets.some((path) => {
    const text = input.texts.get(path);
    if (typeof text !== "string") return false;
    return text.includes("${") || chartRefNames(text, path).length > 0;
  });
}

/** `kubernetes/apps/media/sonarr/app/helmrelease.yaml` -> sonarr (the app's folder). */
function appFolderName(path: string): string {
  const parts = path.split("/");
  const folder = parts.at(-2);
  return (folder === "app" ? parts.at(-3) : folder) ?? "";
}

function safeRoots(text: string, path: string) {
  try {
    return mapRoots(parseManifest(text, path));
  } catch {
    return [];
  }
}

/** True when `spec.postBuild` sets one of `vars` inline, or may through substituteFrom. */
function definesAny(spec: unknown, vars: ReadonlySet<string>): boolean {
  const postBuild = isMap(spec) ? valueAt(spec, "postBuild") : undefined;
  if (!isMap(postBuild)) return false;
  if (substituteFromNames(spec).length > 0) return true;
  const substitute = valueAt(postBuild, "substitute");
  return isMap(substitute) && substitute.items.some((p) => vars.has(stringOf(p.key) ?? ""));
}

function substituteFromNames(spec: unknown): string[] {
  const postBuild = isMap(spec) ? valueAt(spec, "postBuild") : undefined;
  const from = isMap(postBuild) ? valueAt(postBuild, "substituteFrom") : undefined;
  if (!isSeq(from)) return [];
  return from.items.flatMap((item) => {
    const name = isMap(item) ? stringOf(valueAt(item, "name")) : undefined;
    return name === undefined ? [] : [name];
  });
}

function chartRefNames(text: string, path: string): string[] {
  if (!text.includes("chartRef")) return [];
  return safeRoots(text, path).flatMap((root) => {
    if (!isHelmRelease(root)) return [];
    const spec = valueAt(root, "spec");
    const ref = isMap(spec) ? valueAt(spec, "chartRef") : undefined;
    const name = isMap(ref) ? stringOf(valueAt(ref, "name")) : undefined;
    return name === undefined ? [] : [name];
  });
}
