import { validate as validateAgainstGitHub } from "@octokit/graphql-schema";
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FailoverError } from "../../src/domain/errors.js";
import type { PullRequestInfo } from "../../src/repo/change-requests.js";
import { GitHubChangeRequests } from "../../src/repo/github/change-requests.js";
import type { GitHubClient } from "../../src/repo/github/client.js";
import { failoverOctokit } from "../../src/repo/github/octokit-client.js";
import { ENABLE_AUTO_MERGE_MUTATION } from "../../src/repo/github/pull-request-queries.js";

const API = "https://api.github.com";
const REPO = "/repos/acme/gitops";
const TOKEN = "ghs_nocktoken0123456789abcdefghijklmnopq";
const HEAD = "a".repeat(40);
const MERGED = "b".repeat(40);
const BASE = "c".repeat(40);
const BRANCH_PATH = `${REPO}/git/refs/heads%2Ffailover%2Fsonarr`;

const silentLog = { debug() {}, info() {}, warn() {}, error() {} };

function makePort(client?: GitHubClient): GitHubChangeRequests {
  const octokit = client ?? new Octokit({ auth: TOKEN, log: silentLog });
  return new GitHubChangeRequests({ octokit, owner: "acme", repo: "gitops" });
}

/** Probot's Octokit as the app builds it: the retry plugin is on. */
function probotClient(): GitHubClient {
  const ProbotOctokit = failoverOctokit({ pacing: { minWriteIntervalMs: 0 } });
  return new ProbotOctokit({ auth: { token: TOKEN }, log: silentLog }) as unknown as GitHubClient;
}

const PR: PullRequestInfo = {
  number: 7,
  nodeId: "PR_kwDOfake7",
  url: "https://github.com/acme/gitops/pull/7",
  headRef: "failover/sonarr",
  headSha: HEAD,
  baseRef: "main",
};

/** The fields of GitHub's pull request JSON the adapter reads (and a few it ignores). */
const pullJson = (extra: Record<string, unknown> = {}) => ({
  url: `${API}${REPO}/pulls/7`,
  id: 1007,
  node_id: PR.nodeId,
  html_url: PR.url,
  number: 7,
  state: "open",
  title: "failover(sonarr): promote to backup",
  head: { label: "acme:failover/sonarr", ref: "failover/sonarr", sha: HEAD },
  base: { label: "acme:main", ref: "main", sha: BASE },
  merged: false,
  merge_commit_sha: null,
  auto_merge: null,
  ...extra,
});

/** Intercepts one POST /graphql of the auto-merge mutation, recording its body. */
function expectAutoMerge(reply: unknown) {
  const seen: { body?: { query: string; variables: Record<string, unknown> } } = {};
  nock(API)
    .post("/graphql", (body) => {
      seen.body = body;
      return true;
    })
    .reply(200, reply as Record<string, unknown>);
  return seen;
}

const unprocessable = (message: string) => ({
  data: { enablePullRequestAutoMerge: null },
  errors: [
    {
      type: "UNPROCESSABLE",
      path: ["enablePullRequestAutoMerge"],
      locations: [{ line: 2, column: 3 }],
      message,
    },
  ],
});

async function failure(promise: Promise<unknown>): Promise<FailoverError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FailoverError);
  return error as FailoverError;
}

describe("GitHubChangeRequests on the wire (nock)", () => {
  beforeAll(() => {
    nock.disableNetConnect();
  });
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });
  afterAll(() => {
    nock.enableNetConnect();
  });

  it("the auto-merge mutation is valid against GitHub's published schema", () => {
    expect(validateAgainstGitHub(ENABLE_AUTO_MERGE_MUTATION)).toEqual([]);
  });

  describe("find", () => {
    it("asks for the open PR from owner:branch into the base, one result", async () => {
      nock(API)
        .get(`${REPO}/pulls`)
        .query({ state: "open", head: "acme:failover/sonarr", base: "main", per_page: "1" })
        .matchHeader("authorization", `token ${TOKEN}`)
        .reply(200, [pullJson()]);
      expect(await makePort().findOpenPullRequest("failover/sonarr", "main")).toEqual(PR);
    });

    it("none open: null", async () => {
      nock(API)
        .get(`${REPO}/pulls`)
        .query({ state: "open", head: "acme:failover/sonarr", base: "main", per_page: "1" })
        .reply(200, []);
      expect(await makePort().findOpenPullRequest("failover/sonarr", "main")).toBeNull();
    });

    it("a branch's head from GET git/ref; 404 is no branch", async () => {
      nock(API)
        .get(`${REPO}/git/ref/heads%2Ffailover%2Fsonarr`)
        .reply(200, { ref: "refs/heads/failover/sonarr", object: { type: "commit", sha: HEAD } });
      nock(API)
        .get(`${REPO}/git/ref/heads%2Ffailover%2Fradarr`)
        .reply(404, { message: "Not Found" });
      const port = makePort();
      expect(await port.branchHead("failover/sonarr")).toBe(HEAD);
      expect(await port.branchHead("failover/radarr")).toBeNull();
    });
  });

  describe("create and update", () => {
    it("creates the branch with POST git/refs (a full ref name)", async () => {
      nock(API)
        .post(`${REPO}/git/refs`, { ref: "refs/heads/failover/sonarr", sha: BASE })
        .reply(201, { ref: "refs/heads/failover/sonarr", object: { sha: BASE } });
      await makePort().createBranch("failover/sonarr", BASE);
    });

    it("an existing branch (422 Reference already exists) is a conflict", async () => {
      nock(API)
        .post(`${REPO}/git/refs`)
        .reply(422, { message: "Reference already exists", status: "422" });
      const error = await failure(makePort().createBranch("failover/sonarr", BASE));
      expect(error.code).toBe("conflict");
      expect(error.message).toBe("branch failover/sonarr already exists");
    });

    it("opens the PR with POST pulls: head, base, title, body, no maintainer edits", async () => {
      nock(API)
        .post(`${REPO}/pulls`, {
          head: "failover/sonarr",
          base: "main",
          title: "t",
          body: "b",
          maintainer_can_modify: false,
        })
        .reply(201, pullJson());
      expect(
        await makePort().openPullRequest({
          head: "failover/sonarr",
          base: "main",
          title: "t",
          body: "b",
        }),
      ).toEqual(PR);
    });

    it("POST pulls refused (422 A pull request already exists): conflict (another request's PR), with GitHub's reason", async () => {
      nock(API)
        .post(`${REPO}/pulls`)
        .reply(422, {
          message: "Validation Failed",
          errors: [
            {
              resource: "PullRequest",
              code: "custom",
              message: "A pull request already exists for acme:failover/sonarr.",
            },
          ],
        });
      const error = await failure(
        makePort().openPullRequest({
          head: "failover/sonarr",
          base: "main",
          title: "t",
          body: "b",
        }),
      );
      expect(error.code).toBe("conflict");
      expect(error.message).toMatch(/pull request creation .* failed with 422/);
    });

    it("updates title and body with PATCH pulls/{n}", async () => {
      nock(API).patch(`${REPO}/pulls/7`, { title: "t2", body: "b2" }).reply(200, pullJson());
      await makePort().updatePullRequest(7, { title: "t2", body: "b2" });
    });
  });

  describe("delete", () => {
    it("DELETE git/refs/heads/{branch}: 204", async () => {
      nock(API).delete(BRANCH_PATH).reply(204);
      await makePort().deleteBranch("failover/sonarr");
    });

    it("already gone (422 Reference does not exist, or 404) is fine", async () => {
      nock(API).delete(BRANCH_PATH).reply(422, { message: "Reference does not exist" });
      nock(API).delete(BRANCH_PATH).reply(404, { message: "Not Found" });
      const port = makePort();
      await port.deleteBranch("failover/sonarr");
      await port.deleteBranch("failover/sonarr");
    });

    it("a refusal is not swallowed", async () => {
      nock(API)
        .delete(BRANCH_PATH)
        .reply(403, { message: "Resource not accessible by integration" });
      const error = await failure(makePort().deleteBranch("failover/sonarr"));
      expect(error.code).toBe("forbidden");
    });

    it("asks the repository once whether GitHub deletes head branches itself", async () => {
      nock(API).get(REPO).once().reply(200, { id: 1, delete_branch_on_merge: true });
      const port = makePort();
      expect(await port.deletesBranchOnMerge()).toBe(true);
      expect(await port.deletesBranchOnMerge()).toBe(true);
    });
  });

  describe("auto-merge", () => {
    it("armed: one mutation with the node id and the method in GraphQL's spelling", async () => {
      const seen = expectAutoMerge({
        data: {
          enablePullRequestAutoMerge: {
            pullRequest: { number: 7, autoMergeRequest: { enabledAt: "2026-01-01T00:00:00Z" } },
          },
        },
      });
      expect(await makePort().enableAutoMerge(PR, "squash")).toBe("armed");
      expect(seen.body?.query).toBe(ENABLE_AUTO_MERGE_MUTATION);
      expect(seen.body?.variables).toEqual({ pullRequestId: PR.nodeId, mergeMethod: "SQUASH" });
    });

    it.each([
      ["Pull request Auto merge is not allowed for this repository", "not_allowed"],
      ["Pull request is in clean status", "clean"],
      ["Pull request is in unstable status", "clean"],
    ] as const)("%s → %s", async (message, result) => {
      expectAutoMerge(unprocessable(message));
      expect(await makePort().enableAutoMerge(PR, "merge")).toBe(result);
    });

    it("any other GraphQL error is mapped, not taken for a fallback", async () => {
      expectAutoMerge({
        data: { enablePullRequestAutoMerge: null },
        errors: [
          {
            type: "FORBIDDEN",
            path: ["enablePullRequestAutoMerge"],
            message: "Resource not accessible by integration",
          },
        ],
      });
      const error = await failure(makePort().enableAutoMerge(PR, "merge"));
      expect(error.code).toBe("forbidden");
      expect(error.message).toContain("auto-merge on #7");
    });
  });

  describe("merge", () => {
    const putMerge = (body: Record<string, string> = { sha: HEAD, merge_method: "squash" }) =>
      nock(API).put(`${REPO}/pulls/7/merge`, body);
    const getPull = (extra: Record<string, unknown>) =>
      nock(API).get(`${REPO}/pulls/7`).reply(200, pullJson(extra));

    it("PUT pulls/{n}/merge pinned to the head sha, with the method; answers the merge sha", async () => {
      putMerge().reply(200, {
        sha: MERGED,
        merged: true,
        message: "Pull Request successfully merged",
      });
      expect(await makePort().merge(PR, HEAD, "squash")).toEqual({ sha: MERGED });
    });

    it("409 (head moved): a conflict, the PR stays open", async () => {
      putMerge().reply(409, {
        message: "Head branch was modified. Review and try the merge again.",
      });
      getPull({});
      const error = await failure(makePort().merge(PR, HEAD, "squash"));
      expect(error.code).toBe("conflict");
      expect(error.message).toBe(
        `pull request #7 cannot be merged now (its head moved); it stays open: ${PR.url}`,
      );
      expect(error.details).toEqual({ pr: 7 });
    });

    it("405 (not mergeable): a conflict", async () => {
      putMerge().reply(405, { message: "Pull Request is not mergeable" });
      getPull({});
      const error = await failure(makePort().merge(PR, HEAD, "squash"));
      expect(error.code).toBe("conflict");
      expect(error.message).toMatch(/cannot be merged now \(not mergeable\)/);
    });

    it("answer lost (502) but merged: the PR says so, no second merge", async () => {
      putMerge().reply(502, { message: "Server Error" });
      getPull({ state: "closed", merged: true, merge_commit_sha: MERGED });
      expect(await makePort().merge(PR, HEAD, "squash")).toEqual({ sha: MERGED });
    });

    it("answer lost and not merged: sent once more, still pinned to the head", async () => {
      putMerge().reply(502, { message: "Server Error" });
      getPull({});
      putMerge().reply(200, {
        sha: MERGED,
        merged: true,
        message: "Pull Request successfully merged",
      });
      expect(await makePort().merge(PR, HEAD, "squash")).toEqual({ sha: MERGED });
    });

    it("still failing after the resend: upstream", async () => {
      putMerge().times(2).reply(502, { message: "Server Error" });
      nock(API).get(`${REPO}/pulls/7`).times(2).reply(200, pullJson());
      const error = await failure(makePort().merge(PR, HEAD, "squash"));
      expect(error.code).toBe("upstream");
      expect(error.message).toMatch(/merge on #7 failed with 502/);
    });

    it("with Probot's Octokit (retry plugin on) a 405 goes out once, not resent for 14 s", async () => {
      putMerge({ sha: HEAD, merge_method: "merge" })
        .once()
        .reply(405, { message: "Pull Request is not mergeable" });
      getPull({});
      const started = Date.now();
      const error = await failure(makePort(probotClient()).merge(PR, HEAD, "merge"));
      expect(error.code).toBe("conflict");
      expect(Date.now() - started).toBeLessThan(900);
    });

    it("with Probot's Octokit a lost answer of a landed merge is recovered from the PR", async () => {
      putMerge().once().reply(500, { message: "Internal Server Error" });
      getPull({ state: "closed", merged: true, merge_commit_sha: MERGED });
      const started = Date.now();
      expect(await makePort(probotClient()).merge(PR, HEAD, "squash")).toEqual({ sha: MERGED });
      expect(Date.now() - started).toBeLessThan(900);
    });
  });
});
