import type { TargetSpec } from "./service.js";

const WORKLOAD_FILES = ["deployment.yaml", "deployment.yml", "statefulset.yaml", "statefulset.yml"];
const RELEASE_FILES = ["helmrelease.yaml", "helmrelease.yml", "helm-release.yaml", "release.yaml"];

/**
 * The seed found a service's manifest by looking for `<deployment>/deployment.yaml` under the
 * apps tree. Same rule, any depth; for a HelmRelease `<name>/helmrelease.yaml` or
 * `<name>/app/helmrelease.yaml` (the usual Flux layout). When several match, those under a
 * folder named after the namespace win. Returns every remaining candidate: the caller
 * refuses unless exactly one.
 */
export function manifestCandidates(
  target: Exclude<TargetSpec, { type: "field" }>,
  namespace: string | undefined,
  files: readonly string[],
): string[] {
  const name = target.type === "workload" ? target.workload.name : target.release.name;
  const names = target.type === "workload" ? WORKLOAD_FILES : RELEASE_FILES;
  const matches = files.filter((file) => {
    const parts = file.split("/");
    const base = parts.at(-1);
    if (base === undefined || !names.includes(base)) return false;
    const folder = parts.at(-2);
    return (
      folder === name ||
      (target.type === "helmrelease" && folder === "app" && parts.at(-3) === name)
    );
  });
  if (matches.length <= 1 || namespace === undefined) return matches;
  const inNamespace = matches.filter((file) => file.split("/").slice(0, -2).includes(namespace));
  return inNamespace.length > 0 ? inNamespace : matches;
}

/** Directory part of a repository path ("" at the root). */
export function dirOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

const YAML = /\.ya?ml$/;

/**
 * YAML files that belong with `path`: its directory's, and when that directory is the usual
 * Flux `app/` folder, everything under the app's own folder (ks.yaml, volsync/, ...). At most
 * `limit`.
 */
export function siblingsOf(path: string, files: readonly string[], limit = 40): string[] {
  const dir = dirOf(path);
  const appFolder = dir.split("/").at(-1) === "app" ? dirOf(dir) : undefined;
  return files
    .filter(
      (f) =>
        f !== path &&
        YAML.test(f) &&
        (dirOf(f) === dir ||
          (appFolder !== undefined && appFolder !== "" && f.startsWith(`${appFolder}/`))),
    )
    .slice(0, limit);
}

/**
 * The folder `siblingsOf(path, ...)` looks in, as a listing prefix ("" at the root): the app's
 * folder for the usual Flux `app/` layout, else the file's own directory. Listing only this
 * finds the same siblings as listing the whole tree.
 */
export function siblingScope(path: string): string {
  const dir = dirOf(path);
  const appFolder = dir.split("/").at(-1) === "app" ? dirOf(dir) : undefined;
  const scope = appFolder !== undefined && appFolder !== "" ? appFolder : dir;
  return scope === "" ? "" : `${scope}/`;
}

/**
 * Files that may hold the Flux Kustomization applying `paths`: YAML in their directories and
 * every ancestor, plus files named like Flux Kustomizations anywhere (ks.yaml,
 * *-kustomization.yaml). At most `limit`, nearest first.
 */
export function fluxKustomizationCandidates(
  paths: readonly string[],
  files: readonly string[],
  limit = 60,
): string[] {
  const dirs = new Set<string>();
  for (const p of paths) {
    let dir = dirOf(p);
    for (;;) {
      dirs.add(dir);
      if (dir === "") break;
      dir = dirOf(dir);
    }
  }
  const near = files.filter((f) => YAML.test(f) && dirs.has(dirOf(f)) && !paths.includes(f));
  const named = files.filter((f) => {
    const base = f.split("/").at(-1) ?? "";
    return /^(ks|.+[-_.]kustomization|kustomization[-_].+)\.ya?ml$/.test(base);
  });
  const depth = (f: string) => -f.split("/").length;
  return [...new Set([...near.sort((a, b) => depth(a) - depth(b)), ...named])].slice(0, limit);
}
