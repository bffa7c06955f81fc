/**
 * The commit sha in a Flux source revision: `main@sha1:<sha>` (Flux 2.x), `sha1:<sha>`,
 * or the older `main/<sha>`. Undefined for anything else (an OCI digest, a tag only).
 */
export function revisionSha(revision: string | undefined): string | undefined {
  if (revision === undefined) return undefined;
  const m = /(?:^|@|\/)(?:sha1:)?([0-9a-f]{40})$/.exec(revision.trim());
  return m?.[1];
}

/**
 * Whether `revision` is `commit` or a later commit of the branch. `order` is the branch's
 * history newest first (linear: every failover commit is a compare-and-swap on the head).
 * A revision that is not in it is not judged (undefined).
 */
export function revisionIncludes(
  order: readonly string[],
  revision: string,
  commit: string,
): boolean | undefined {
  if (revision === commit) return true;
  const r = order.indexOf(revision);
  const c = order.indexOf(commit);
  if (r < 0 || c < 0) return undefined;
  return r < c;
}
