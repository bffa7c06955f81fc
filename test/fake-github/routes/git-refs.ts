import { gitFailure } from "../../../src/repo/local/git-cli.js";
import { isSafeRevision } from "../git-store.js";
import { closePullsWithHead, gitOf } from "../pull-merge.js";
import { type FakeContext, HttpError, type RestRoute, requireRepo } from "../rest.js";

function refBody(fake: FakeContext, qualifiedName: string, sha: string): Record<string, unknown> {
  const base = `${fake.apiUrl}/repos/${fake.owner}/${fake.repo}`;
  return {
    ref: qualifiedName,
    node_id: `REF_${Buffer.from(qualifiedName).toString("base64url")}`,
    url: `${base}/git/${qualifiedName}`,
    object: { type: "commit", sha, url: `${base}/git/commits/${sha}` },
  };
}

/** Git Data references: create (never overwrites) and delete. GET is in repos.ts. */
export const gitRefRoutes: readonly RestRoute[] = [
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/git/refs",
    async handler(request) {
      requireRepo(request);
      const { fake } = request;
      const { ref, sha } = (request.body ?? {}) as { ref?: unknown; sha?: unknown };
      if (typeof ref !== "string" || typeof sha !== "string") {
        throw new HttpError(422, 'Invalid request.\n\n"ref" and "sha" are required.');
      }
      if (!/^refs\/[^/]+\/.+/.test(ref) || !isSafeRevision(ref)) {
        throw new HttpError(
          422,
          "Reference name must start with 'refs/' and have at least two slashes.",
        );
      }
      const commit = /^[0-9a-f]{40}$/i.test(sha)
        ? await fake.store.resolveCommitish(sha.toLowerCase())
        : undefined;
      if (commit === undefined) throw new HttpError(422, "Object does not exist");
      try {
        // Empty old value: create only, a compare-and-swap against a concurrent creation.
        await gitOf(fake).run(["update-ref", ref, commit, ""]);
      } catch (error) {
        if (gitFailure(error) !== undefined) throw new HttpError(422, "Reference already exists");
        throw error;
      }
      return {
        status: 201,
        body: refBody(fake, ref, commit),
        headers: { location: `${fake.apiUrl}/repos/${fake.owner}/${fake.repo}/git/${ref}` },
      };
    },
  },
  {
    method: "DELETE",
    template: "/repos/{owner}/{repo}/git/refs/{ref}",
    multiSegment: ["ref"],
    async handler(request) {
      requireRepo(request);
      const { fake } = request;
      const ref = (request.params.ref ?? "").replace(/^refs\//, "");
      const qualifiedName = `refs/${ref}`;
      const found =
        /^(heads|tags)\/.+/.test(ref) && isSafeRevision(qualifiedName)
          ? await fake.store.resolveRef(qualifiedName)
          : undefined;
      if (found === undefined) throw new HttpError(422, "Reference does not exist");
      try {
        await gitOf(fake).run(["update-ref", "-d", qualifiedName]);
      } catch (error) {
        if (gitFailure(error) !== undefined) throw new HttpError(422, "Reference does not exist");
        throw error;
      }
      if (ref.startsWith("heads/")) closePullsWithHead(fake, ref.slice("heads/".length));
      return { status: 204 };
    },
  },
];
