import { type CommitInfo, isSafeRevision } from "../git-store.js";
import { gitOf } from "../pull-merge.js";
import {
  conditionalAnswer,
  type FakeContext,
  HttpError,
  notFound,
  type RestRoute,
  requireRepo,
} from "../rest.js";

async function gitRevList(fake: FakeContext, range: string): Promise<string[]> {
  return (await fake.store.revList([range])).split("\n");
}

/** GitHub's REST representation of a commit (the fields clients commonly read). */
export async function restCommit(
  fake: FakeContext,
  info: CommitInfo,
): Promise<Record<string, unknown>> {
  const base = `${fake.apiUrl}/repos/${fake.owner}/${fake.repo}`;
  return {
    sha: info.oid,
    node_id: `C_${Buffer.from(info.oid).toString("base64url")}`,
    commit: {
      author: info.author,
      committer: info.committer,
      message: info.message,
      tree: { sha: info.tree, url: `${base}/git/trees/${info.tree}` },
      url: `${base}/git/commits/${info.oid}`,
      comment_count: 0,
      verification: {
        verified: false,
        reason: "unsigned",
        signature: null,
        payload: null,
        verified_at: null,
      },
    },
    url: `${base}/commits/${info.oid}`,
    html_url: `${fake.webUrl}/${fake.owner}/${fake.repo}/commit/${info.oid}`,
    comments_url: `${base}/commits/${info.oid}/comments`,
    // No GitHub user behind the fake's identities.
    author: null,
    committer: null,
    parents: info.parents.map((sha) => ({
      sha,
      url: `${base}/commits/${sha}`,
      html_url: `${fake.webUrl}/${fake.owner}/${fake.repo}/commit/${sha}`,
    })),
  };
}

function positiveInt(value: string | null, fallback: number, max: number): number {
  if (value === null) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) return fallback;
  return Math.min(n, max);
}

export const repoRoutes: readonly RestRoute[] = [
  {
    method: "GET",
    template: "/repos/{owner}/{repo}",
    async handler(request) {
      requireRepo(request);
      const { fake } = request;
      const defaultBranch = await fake.store.repo.defaultBranch();
      return {
        status: 200,
        body: {
          id: 1,
          node_id: "R_fake",
          name: fake.repo,
          full_name: `${fake.owner}/${fake.repo}`,
          owner: { login: fake.owner, id: 1, type: "Organization" },
          private: true,
          html_url: `${fake.webUrl}/${fake.owner}/${fake.repo}`,
          url: `${fake.apiUrl}/repos/${fake.owner}/${fake.repo}`,
          default_branch: defaultBranch,
          allow_auto_merge: true,
          allow_merge_commit: true,
          allow_squash_merge: true,
          allow_rebase_merge: true,
          delete_branch_on_merge: false,
          archived: false,
          disabled: false,
          visibility: "private",
        },
      };
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/git/ref/{ref}",
    multiSegment: ["ref"],
    async handler(request) {
      requireRepo(request);
      const ref = request.params.ref ?? "";
      const qualifiedName = `refs/${ref}`;
      if (!/^(heads|tags)\//.test(ref) || !isSafeRevision(qualifiedName)) throw notFound();
      const found = await request.fake.store.resolveRef(qualifiedName);
      if (found === undefined) throw notFound();
      const base = `${request.fake.apiUrl}/repos/${request.fake.owner}/${request.fake.repo}`;
      // With an ETag; a matching If-None-Match is answered 304, as GitHub does.
      return conditionalAnswer(request, {
        ref: found.qualifiedName,
        node_id: `REF_${Buffer.from(found.qualifiedName).toString("base64url")}`,
        url: `${base}/git/${found.qualifiedName}`,
        object: { type: "commit", sha: found.oid, url: `${base}/git/commits/${found.oid}` },
      });
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/git/trees/{tree_sha}",
    async handler(request) {
      requireRepo(request);
      const { fake } = request;
      const revision = request.params.tree_sha ?? "";
      const tree = isSafeRevision(revision) ? await fake.store.resolveTree(revision) : undefined;
      if (tree === undefined) throw notFound();
      // GitHub treats any value of `recursive` as true ("0" and "false" included).
      const recursive = request.query.has("recursive");
      const base = `${fake.apiUrl}/repos/${fake.owner}/${fake.repo}`;
      const entries = await fake.store.tree(tree, recursive);
      return {
        status: 200,
        body: {
          sha: tree,
          url: `${base}/git/trees/${tree}`,
          tree: entries.map((e) => ({
            path: e.path,
            mode: e.mode,
            type: e.type,
            sha: e.oid,
            ...(e.size === undefined ? {} : { size: e.size }),
            url: `${base}/git/${e.type === "tree" ? "trees" : "blobs"}/${e.oid}`,
          })),
          truncated: false,
        },
      };
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/commits",
    async handler(request) {
      requireRepo(request);
      const { fake } = request;
      const sha = request.query.get("sha") ?? (await fake.store.repo.defaultBranch());
      const start = isSafeRevision(sha) ? await fake.store.resolveCommitish(sha) : undefined;
      if (start === undefined) throw new HttpError(404, `No commit found for SHA: ${sha}`);
      const perPage = positiveInt(request.query.get("per_page"), 30, 100);
      const page = positiveInt(request.query.get("page"), 1, Number.MAX_SAFE_INTEGER);
      const path = request.query.get("path") ?? undefined;
      const oids = await fake.store.log(start, {
        ...(path === undefined ? {} : { path }),
        skip: (page - 1) * perPage,
        max: perPage,
      });
      const body = await Promise.all(
        oids.map(async (oid) => restCommit(fake, await fake.store.commit(oid))),
      );
      return { status: 200, body };
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/compare/{basehead}",
    multiSegment: ["basehead"],
    async handler(request) {
      requireRepo(request);
      const { fake } = request;
      const [base = "", head = ""] = (request.params.basehead ?? "").split("...");
      const resolve = async (rev: string) =>
        isSafeRevision(rev) ? await fake.store.resolveCommitish(rev) : undefined;
      const baseOid = await resolve(base);
      const headOid = await resolve(head);
      if (baseOid === undefined || headOid === undefined) throw notFound();
      const list = async (range: string) =>
        (await gitRevList(fake, range)).filter((line) => line !== "");
      const ahead = await list(`${baseOid}..${headOid}`);
      const behind = await list(`${headOid}..${baseOid}`);
      const commits = await Promise.all(
        ahead.reverse().map(async (oid) => restCommit(fake, await fake.store.commit(oid))),
      );
      const status =
        ahead.length === 0 && behind.length === 0
          ? "identical"
          : ahead.length === 0
            ? "behind"
            : behind.length === 0
              ? "ahead"
              : "diverged";
      return {
        status: 200,
        body: {
          status,
          ahead_by: ahead.length,
          behind_by: behind.length,
          total_commits: ahead.length,
          commits,
          files: await compareFiles(fake, baseOid, headOid),
        },
      };
    },
  },
];

/**
 * GitHub's compare `files`: each changed path with its status and its blob sha on the head
 * (what a client matches against the text it expects without reading the file).
 */
async function compareFiles(
  fake: Parameters<typeof gitOf>[0],
  baseOid: string,
  headOid: string,
): Promise<{ filename: string; status: string; sha: string | null }[]> {
  // --raw -z: ":<mode> <mode> <old blob> <new blob> <status>\0<path>\0" per file.
  const out = await gitOf(fake).text([
    "diff",
    "--raw",
    "-z",
    "--no-abbrev",
    "--no-renames",
    baseOid,
    headOid,
  ]);
  const fields = out.split("\0").filter((f) => f !== "");
  const files: { filename: string; status: string; sha: string | null }[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [, , , blob = "", letter = "M"] = (fields[i] ?? "").slice(1).split(" ");
    const status = letter === "A" ? "added" : letter === "D" ? "removed" : "modified";
    files.push({ filename: fields[i + 1] ?? "", status, sha: status === "removed" ? null : blob });
  }
  return files;
}
