import {
  commitsBetween,
  type FakeMergeMethod,
  type FakePullRequest,
  findPull,
  isMergeable,
  mergePull,
  nowIso,
  pullNodeId,
  pullsState,
  refreshPull,
} from "../pull-merge.js";
import {
  type FakeContext,
  HttpError,
  notFound,
  type RestRequest,
  type RestRoute,
  requireRepo,
} from "../rest.js";
import { repoRoutes } from "./repos.js";

const MERGE_METHODS: readonly FakeMergeMethod[] = ["merge", "squash", "rebase"];

function validationFailed(errors: Record<string, unknown>[]): HttpError {
  return new HttpError(422, "Validation Failed", { errors });
}

function positiveInt(value: string | null, fallback: number, max: number): number {
  if (value === null) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) return fallback;
  return Math.min(n, max);
}

function pullNumber(request: RestRequest): number {
  const n = Number(request.params.pull_number);
  if (!Number.isSafeInteger(n) || n < 1) throw notFound();
  return n;
}

function requirePull(request: RestRequest): FakePullRequest {
  const pr = findPull(request.fake, pullNumber(request));
  if (pr === undefined) throw notFound();
  return pr;
}

/** "owner:branch" or "branch" → the branch, when the owner is the fake's (no forks here). */
function headBranch(fake: FakeContext, head: string): string | undefined {
  const colon = head.indexOf(":");
  if (colon < 0) return head;
  if (head.slice(0, colon).toLowerCase() !== fake.owner.toLowerCase()) return undefined;
  return head.slice(colon + 1);
}

/** GitHub's pull request JSON: the fields clients read (and a few they display). */
export function restPull(
  fake: FakeContext,
  pr: FakePullRequest,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const api = `${fake.apiUrl}/repos/${fake.owner}/${fake.repo}`;
  const html = `${fake.webUrl}/${fake.owner}/${fake.repo}/pull/${pr.number}`;
  const repo = {
    id: 1,
    node_id: "R_fake",
    name: fake.repo,
    full_name: `${fake.owner}/${fake.repo}`,
    owner: { login: fake.owner, id: 1, type: "Organization" },
    private: true,
    html_url: `${fake.webUrl}/${fake.owner}/${fake.repo}`,
    url: api,
  };
  const user = { login: "failover-api[bot]", id: 2, type: "Bot" };
  const side = (ref: string, sha: string) => ({
    label: `${fake.owner}:${ref}`,
    ref,
    sha,
    user: repo.owner,
    repo,
  });
  return {
    url: `${api}/pulls/${pr.number}`,
    id: pr.number + 1000,
    node_id: pr.nodeId,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pr.number}`,
    commits_url: `${api}/pulls/${pr.number}/commits`,
    number: pr.number,
    state: pr.state,
    locked: false,
    title: pr.title,
    user,
    body: pr.body,
    labels: [],
    milestone: null,
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    closed_at: pr.closedAt,
    merged_at: pr.mergedAt,
    merge_commit_sha: pr.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: side(pr.headRef, pr.headSha),
    base: side(pr.baseRef, pr.baseSha),
    author_association: "NONE",
    auto_merge:
      pr.autoMerge === null
        ? null
        : {
            enabled_by: user,
            merge_method: pr.autoMerge.mergeMethod,
            commit_title: pr.autoMerge.commitHeadline ?? "",
            commit_message: pr.autoMerge.commitBody ?? "",
          },
    draft: false,
    merged: pr.merged,
    maintainer_can_modify: pr.maintainerCanModify,
    ...extra,
  };
}

/** The single-PR representation adds what GitHub computes: mergeability and counts. */
async function fullPull(fake: FakeContext, pr: FakePullRequest): Promise<Record<string, unknown>> {
  await refreshPull(fake, pr);
  const mergeable = pr.state === "open" ? await isMergeable(fake, pr) : null;
  const commits = pr.merged ? 0 : (await commitsBetween(fake, pr.baseSha, pr.headSha)).length;
  return restPull(fake, pr, {
    mergeable,
    rebaseable: mergeable,
    mergeable_state: pr.state !== "open" ? "unknown" : mergeable ? "clean" : "dirty",
    merged_by: pr.merged ? { login: "failover-api[bot]", id: 2, type: "Bot" } : null,
    comments: 0,
    review_comments: 0,
    commits,
  });
}

const getRepo = repoRoutes.find(
  (r) => r.method === "GET" && r.template === "/repos/{owner}/{repo}",
);

/**
 * GET /repos/{owner}/{repo} with the settings PR mode reads (delete_branch_on_merge,
 * allow_auto_merge) taken from the fake's configurable settings (configureRepo).
 * Spread before repoRoutes so it answers first.
 */
const repoWithSettings: RestRoute = {
  method: "GET",
  template: "/repos/{owner}/{repo}",
  async handler(request) {
    if (getRepo === undefined) throw notFound();
    const response = await getRepo.handler(request);
    const { settings } = pullsState(request.fake);
    return {
      ...response,
      body: {
        ...(response.body as Record<string, unknown>),
        delete_branch_on_merge: settings.deleteBranchOnMerge,
        allow_auto_merge: settings.autoMerge !== "not_allowed",
      },
    };
  },
};

export const pullRoutes: readonly RestRoute[] = [
  repoWithSettings,
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/pulls",
    async handler(request) {
      requireRepo(request);
      const { fake, query } = request;
      const state = query.get("state") ?? "open";
      if (!["open", "closed", "all"].includes(state)) {
        throw validationFailed([{ resource: "Issue", field: "state", code: "invalid" }]);
      }
      const head = query.get("head");
      const headRef = head === null ? undefined : headBranch(fake, head);
      const base = query.get("base");
      const perPage = positiveInt(query.get("per_page"), 30, 100);
      const page = positiveInt(query.get("page"), 1, Number.MAX_SAFE_INTEGER);
      const all = pullsState(fake).pulls;
      await Promise.all(all.map((pr) => refreshPull(fake, pr)));
      const ascending = query.get("direction") === "asc";
      const matching = all
        .filter((pr) => state === "all" || pr.state === state)
        .filter((pr) => head === null || pr.headRef === headRef)
        .filter((pr) => base === null || pr.baseRef === base)
        .sort((a, b) => (ascending ? a.number - b.number : b.number - a.number));
      const body = matching
        .slice((page - 1) * perPage, page * perPage)
        .map((pr) => restPull(fake, pr));
      return { status: 200, body };
    },
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/pulls",
    async handler(request) {
      requireRepo(request);
      const { fake } = request;
      const input = (request.body ?? {}) as Record<string, unknown>;
      const { title, head, base, body } = input;
      if (typeof title !== "string" || title === "") {
        throw validationFailed([
          { resource: "PullRequest", field: "title", code: "missing_field" },
        ]);
      }
      if (typeof head !== "string" || typeof base !== "string") {
        throw validationFailed([
          {
            resource: "PullRequest",
            field: typeof head === "string" ? "base" : "head",
            code: "missing_field",
          },
        ]);
      }
      const baseRef = await fake.store.resolveRef(`refs/heads/${base}`);
      if (baseRef === undefined) {
        throw validationFailed([{ resource: "PullRequest", field: "base", code: "invalid" }]);
      }
      const branch = headBranch(fake, head);
      const headRef =
        branch === undefined ? undefined : await fake.store.resolveRef(`refs/heads/${branch}`);
      if (branch === undefined || headRef === undefined) {
        throw validationFailed([{ resource: "PullRequest", field: "head", code: "invalid" }]);
      }
      const state = pullsState(fake);
      for (const pr of state.pulls) await refreshPull(fake, pr);
      // One open PR per head and base, as on GitHub, whatever runs concurrently: checked again
      // after the last await, so that no other creation can come between check and insert.
      const exists = () => {
        if (
          state.pulls.some((p) => p.state === "open" && p.headRef === branch && p.baseRef === base)
        ) {
          throw validationFailed([
            {
              resource: "PullRequest",
              code: "custom",
              message: `A pull request already exists for ${fake.owner}:${branch}.`,
            },
          ]);
        }
      };
      exists();
      if ((await commitsBetween(fake, baseRef.oid, headRef.oid)).length === 0) {
        throw validationFailed([
          {
            resource: "PullRequest",
            code: "custom",
            message: `No commits between ${base} and ${branch}`,
          },
        ]);
      }
      exists();
      const number = state.nextNumber++;
      const at = nowIso();
      const pr: FakePullRequest = {
        number,
        nodeId: pullNodeId(number),
        headRef: branch,
        headSha: headRef.oid,
        baseRef: base,
        baseSha: baseRef.oid,
        title,
        body: typeof body === "string" ? body : null,
        state: "open",
        merged: false,
        mergeCommitSha: null,
        mergedAt: null,
        closedAt: null,
        createdAt: at,
        updatedAt: at,
        autoMerge: null,
        maintainerCanModify: input.maintainer_can_modify === true,
      };
      state.pulls.push(pr);
      const json = await fullPull(fake, pr);
      return { status: 201, body: json, headers: { location: String(json.url) } };
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/pulls/{pull_number}",
    async handler(request) {
      requireRepo(request);
      return { status: 200, body: await fullPull(request.fake, requirePull(request)) };
    },
  },
  {
    method: "PATCH",
    template: "/repos/{owner}/{repo}/pulls/{pull_number}",
    async handler(request) {
      requireRepo(request);
      const { fake } = request;
      const pr = requirePull(request);
      const input = (request.body ?? {}) as Record<string, unknown>;
      await refreshPull(fake, pr);
      if (typeof input.title === "string") pr.title = input.title;
      if (typeof input.body === "string" || input.body === null) pr.body = input.body;
      if (typeof input.base === "string" && input.base !== pr.baseRef) {
        const base = await fake.store.resolveRef(`refs/heads/${input.base}`);
        if (base === undefined || pr.state !== "open") {
          throw validationFailed([{ resource: "PullRequest", field: "base", code: "invalid" }]);
        }
        pr.baseRef = input.base;
        pr.baseSha = base.oid;
      }
      if (input.state === "closed" && pr.state === "open") {
        pr.state = "closed";
        pr.closedAt = nowIso();
        pr.autoMerge = null; // GitHub disables auto-merge when a PR closes
      } else if (input.state === "open" && pr.state === "closed") {
        const head = await fake.store.resolveRef(`refs/heads/${pr.headRef}`);
        if (pr.merged || head === undefined) {
          throw validationFailed([{ resource: "PullRequest", field: "state", code: "invalid" }]);
        }
        pr.state = "open";
        pr.closedAt = null;
        pr.headSha = head.oid;
      }
      pr.updatedAt = nowIso();
      return { status: 200, body: await fullPull(fake, pr) };
    },
  },
  {
    method: "PUT",
    template: "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
    async handler(request) {
      requireRepo(request);
      const pr = requirePull(request);
      const input = (request.body ?? {}) as Record<string, unknown>;
      const method = input.merge_method ?? "merge";
      if (!MERGE_METHODS.includes(method as FakeMergeMethod)) {
        throw validationFailed([
          { resource: "PullRequest", field: "merge_method", code: "invalid" },
        ]);
      }
      const merged = await mergePull(request.fake, pr, {
        method: method as FakeMergeMethod,
        sha: typeof input.sha === "string" ? input.sha : undefined,
        commitTitle: typeof input.commit_title === "string" ? input.commit_title : undefined,
        commitMessage: typeof input.commit_message === "string" ? input.commit_message : undefined,
      });
      return { status: 200, body: { sha: merged.sha, merged: true, message: merged.message } };
    },
  },
];
