import { pathCovers } from "../targets/flux/repo-paths.js";
import { composeWithinDepth } from "../yaml/nesting-depth.js";

/** A Flux Kustomization found in the repository: `namespace/name` and what it builds. */
export interface FluxKustomizationRef {
  readonly id: string;
  readonly specPath: string;
}

const API = /^kustomize\.toolkit\.fluxcd\.io\//;

/**
 * The Flux Kustomizations a YAML file defines (unparseable documents are skipped, and so is a
 * file nested too deep to compose safely: see nesting-depth.ts).
 */
export function fluxKustomizationsIn(text: string): FluxKustomizationRef[] {
  const found: FluxKustomizationRef[] = [];
  const composed = composeWithinDepth(text, { prettyErrors: false });
  if ("depth" in composed) return found;
  for (const doc of composed.docs) {
    if (doc.errors.length > 0) continue;
    const value = doc.toJS({ maxAliasCount: 50 }) as unknown;
    if (typeof value !== "object" || value === null) continue;
    const o = value as {
      kind?: unknown;
      apiVersion?: unknown;
      metadata?: { name?: unknown; namespace?: unknown };
      spec?: { path?: unknown };
    };
    if (o.kind !== "Kustomization" || typeof o.apiVersion !== "string" || !API.test(o.apiVersion))
      continue;
    const name = o.metadata?.name;
    if (typeof name !== "string") continue;
    const namespace =
      typeof o.metadata?.namespace === "string" ? o.metadata.namespace : "flux-system";
    found.push({
      id: `${namespace}/${name}`,
      specPath: typeof o.spec?.path === "string" ? o.spec.path : "",
    });
  }
  return found;
}

/**
 * The Kustomizations that apply each manifest: of those whose `spec.path` covers the
 * manifest's directory, the most specific one (a cluster-wide `./kubernetes/apps` also
 * covers it, but it applies the app's own Kustomization object, not the app).
 */
export function kustomizationsBuilding(
  manifests: readonly string[],
  kustomizations: readonly FluxKustomizationRef[],
): Set<string> {
  const ids = new Set<string>();
  for (const manifest of manifests) {
    const dir = manifest.split("/").slice(0, -1).join("/");
    const covering = kustomizations.filter((k) => pathCovers(k.specPath, dir));
    const depth = (k: FluxKustomizationRef) =>
      k.specPath.split("/").filter((s) => s !== "" && s !== ".").length;
    const best = Math.max(...covering.map(depth));
    for (const k of covering) if (depth(k) === best) ids.add(k.id);
  }
  return ids;
}
