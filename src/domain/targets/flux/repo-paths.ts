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

/** The folder of a repository file ("" at the root). */
export function directoryOf(file: string): string {
  const normalized = normalizeRepoPath(file);
  const slash = normalized.lastIndexOf("/");
  return slash === -1 ? "" : normalized.slice(0, slash);
}

/** True when a Flux Kustomization with `spec.path` applies files of `dir` (its tree). */
export function pathCovers(specPath: string, dir: string): boolean {
  const base = normalizeRepoPath(specPath);
  return base === "" || dir === base || dir.startsWith(`${base}/`);
}
