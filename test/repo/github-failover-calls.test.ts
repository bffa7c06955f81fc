import { Octokit } from "@octokit/rest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FailoverError, StaleHeadError } from "../../src/domain/errors.js";
import {
  closeSupersededPullRequest,
  closeSupersededPullRequests,
  deliverByPullRequest,
  type PullRequestSettings,
} from "../../src/failover/pull-request-flow.js";
import { GitHubChangeRequests } from "../../src/repo/github/change-requests.js";
import { GitHubRepo } from "../../src/repo/github/github-repo.js";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.js";
import { completeChecks, configureRepo, pullsState } from "../fake-github/pull-merge.js";
import { git } from "../helpers/git.js";

/**
 * The call budget of a failover, on the adapters against the fake GitHub: urgent = one read +
 * one commit (the superseded-PR lookup rides on the read), PR mode <= 5 (read, branch, commit,
 * PR, auto-merge), also when a merged PR's branch is left over (moved with a compare-and-swap).
 */
const silentLog = { debug() {}, info() {}, warn() {}, error() {} };
const DB = "apps/db/statefulset.yaml";
const PRIMARY = "kind: StatefulSet\nnodeSelector:\n  role: primary\n";
const BACKUP = "kind: StatefulSet\nnodeSelector:\n  role: backup\n";
const BRANCH = "failover/db";

let fake: FakeGitHub;
let octokit: Octokit;
let repo: GitHubRepo;
let settings: PullRequestSettings;

beforeEach(async () => {
  fake = await startFakeGitHub({ files: { [DB]: PRIMARY, "README.md": "# gitops\n" } });
  octokit = new Octokit({ baseUrl: fake.url, auth: "ghs_x", log: silentLog });
  repo = new GitHubRepo({ octokit, owner: fake.owner, repo: fake.repoName });
  settings = {
    // As composed: the port takes the repository's node id and settings from the reads.
    port: new GitHubChangeRequests({
      octokit,
      owner: fake.owner,
      repo: fake.repoName,
      facts: repo.facts,
    }),
    mergeMethod: "squash",
    fallback: "merge",
  };
});

afterEach(async () => {
  await fake.close();
});

const calls = (): string[] =>
  fake.requests.map((r) =>
    r.path === "/graphql"
      ? `graphql ${(r.rootFields ?? []).join(",")}`
      : `${r.method} ${r.path.split("?")[0]}`,
  );

const change = (text: string, request: string) => ({
  key: "db",
  title: "failover(db)",
  body: "moves db",
  message: `failover(db): move\n\nFailover-Service: db\nFailover-Request: ${request}`,
  files: [{ path: DB, after: text }],
});

async function openPr(head: string): Promise<number> {
  const { data } = await octokit.request("POST /repos/{owner}/{repo}/pulls", {
    owner: fake.owner,
    repo: fake.repoName,
    head,
    base: "main",
    title: "pending",
  });
  return data.number;
}

describe("failover call budget on GitHub", () => {
  it("the read lists the open failover PRs and failover/* branches, with what is unmerged", async () => {
    const main = await fake.head();
    await settings.port.createBranch(BRANCH, main);
    await repo.commit({
      branch: BRANCH,
      expectedHead: main,
      message: change(BACKUP, "r1").message,
      changes: [{ path: DB, text: BACKUP }],
    });
    await settings.port.createBranch("failover/merged", main);
    await settings.port.createBranch("other", main);
    await repo.commit({
      branch: "other",
      expectedHead: main,
      message: "other work",
      changes: [{ path: "README.md", text: "other\n" }],
    });
    await openPr(BRANCH);
    await openPr("other");
    fake.resetLog();
    const snap = await repo.read("main", [DB], { failover: true });
    expect(fake.requests).toHaveLength(1);
    expect(snap.openFailoverPullRequests?.map((p) => [p.headRef, p.baseRef])).toEqual([
      [BRANCH, "main"],
    ]);
    expect(snap.openFailoverPullRequests?.[0]?.headSha).toBe(
      git(fake.dir, "rev-parse", BRANCH).trim(),
    );
    expect(Object.fromEntries(snap.failoverBranches ?? [])).toEqual({
      [BRANCH]: { head: git(fake.dir, "rev-parse", BRANCH).trim(), unmerged: 1 },
      "failover/merged": { head: main, unmerged: 0 },
    });
    // Not asked: not fetched.
    const plain = await repo.read("main", [DB]);
    expect(plain.openFailoverPullRequests).toBeUndefined();
    expect(plain.failoverBranches).toBeUndefined();
  });

  it("urgent: 2 calls when no PR is superseded, and the superseded one closed without a lookup", async () => {
    fake.resetLog();
    const snap = await repo.read("main", [DB], { failover: true });
    await repo.commit({
      branch: "main",
      expectedHead: snap.head,
      message: change(BACKUP, "r2").message,
      changes: [{ path: DB, text: BACKUP }],
    });
    const closed = await closeSupersededPullRequest(
      settings,
      "db",
      "main",
      "main has db on backup",
      snap.openFailoverPullRequests,
    );
    expect(closed).toBeUndefined();
    expect(calls()).toEqual(["graphql repository", "graphql createCommitOnBranch"]);

    // A pending PR for db: found in the read, closed with its comment, close and deletion.
    const at = await fake.head();
    await settings.port.createBranch(BRANCH, at);
    await repo.commit({
      branch: BRANCH,
      expectedHead: at,
      message: change(PRIMARY, "r2b").message,
      changes: [{ path: DB, text: PRIMARY }],
    });
    const number = await openPr(BRANCH);
    fake.resetLog();
    const again = await repo.read("main", [DB], { failover: true });
    const superseded = await closeSupersededPullRequests(
      settings,
      ["db"],
      "main",
      () => "main has db on backup",
      again.openFailoverPullRequests,
    );
    expect(superseded.map((p) => p.number)).toEqual([number]);
    expect(calls().filter((c) => c.includes("/pulls") && c.startsWith("GET"))).toEqual([]);
    expect(pullsState(fake).pulls.find((p) => p.number === number)?.state).toBe("closed");
  });

  it("PR mode: read, branch, commit, PR, auto-merge; a merged PR's branch is moved, not recreated", async () => {
    const run = async (text: string, request: string) => {
      fake.resetLog();
      const snap = await repo.read("main", [DB], { failover: true });
      const outcome = await deliverByPullRequest(
        repo,
        settings,
        { branch: "main", ...snap },
        change(text, request),
      );
      return { outcome, calls: calls() };
    };
    const first = await run(BACKUP, "r3");
    expect(first.outcome.outcome).toBe("pr_armed");
    expect(first.calls).toEqual([
      "graphql repository",
      "POST /repos/acme/gitops/git/refs",
      "graphql createCommitOnBranch",
      "POST /repos/acme/gitops/pulls",
      "graphql enablePullRequestAutoMerge",
    ]);
    await completeChecks(fake); // merges it; the branch stays (delete_branch_on_merge off)

    // The branch is left over, everything on it merged: the read says so, one move.
    const second = await run(PRIMARY, "r4");
    expect(second.outcome.outcome).toBe("pr_armed");
    // 5 calls: the node id for updateRefs came with the read, no `GET /repos` of its own.
    expect(second.calls).toEqual([
      "graphql repository",
      "graphql updateRefs",
      "graphql createCommitOnBranch",
      "POST /repos/acme/gitops/pulls",
      "graphql enablePullRequestAutoMerge",
    ]);
    await completeChecks(fake);
    const third = await run(BACKUP, "r5");
    expect(third.calls).toHaveLength(5);
    expect(third.calls).not.toContain("POST /repos/acme/gitops/git/refs");
    expect(git(fake.dir, "show", `main:${DB}`)).toBe(PRIMARY);
  });

  it("the read carries the repository's node id and delete_branch_on_merge; GET /repos only without one", async () => {
    configureRepo(fake, { deleteBranchOnMerge: true });
    fake.resetLog();
    await repo.read("main", [DB], { failover: true });
    expect(repo.facts.known()).toEqual({ id: "R_fake", deleteBranchOnMerge: true });
    expect(await settings.port.deletesBranchOnMerge()).toBe(true);
    expect(calls()).toEqual(["graphql repository"]);
    // Every failover read refreshes them: a setting changed on GitHub is seen at the next one.
    configureRepo(fake, { deleteBranchOnMerge: false });
    await repo.read("main", [DB], { failover: true });
    expect(await settings.port.deletesBranchOnMerge()).toBe(false);
    // A plain read (status) does not ask, and a port without a read falls back to GET /repos.
    const alone = new GitHubChangeRequests({ octokit, owner: fake.owner, repo: fake.repoName });
    fake.resetLog();
    await repo.read("main", [DB]);
    expect(await alone.deletesBranchOnMerge()).toBe(false);
    expect(await alone.deletesBranchOnMerge()).toBe(false);
    expect(calls()).toEqual(["graphql repository", "GET /repos/acme/gitops"]);
  });

  it("moveBranch is a compare-and-swap: refused (conflict) when the branch moved", async () => {
    const main = await fake.head();
    await settings.port.createBranch(BRANCH, main);
    const moved = await repo.commit({
      branch: BRANCH,
      expectedHead: main,
      message: "someone's\n\nFailover-Request: x",
      changes: [{ path: DB, text: BACKUP }],
    });
    const error = await settings.port.moveBranch(BRANCH, main, main).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FailoverError);
    expect((error as FailoverError).code).toBe("conflict");
    expect(git(fake.dir, "rev-parse", BRANCH).trim()).toBe(moved.sha);
    // At the head it names: moved, even backwards (force, guarded by beforeOid).
    await settings.port.moveBranch(BRANCH, moved.sha, main);
    expect(git(fake.dir, "rev-parse", BRANCH).trim()).toBe(main);
  });

  it("a leftover branch that moved under the read is not forced: the flow re-reads", async () => {
    configureRepo(fake, { autoMerge: "armed" });
    const main = await fake.head();
    await settings.port.createBranch(BRANCH, main);
    const snap = await repo.read("main", [DB], { failover: true });
    // Someone commits on it after the read: the read's "merged, at main" is stale.
    await repo.commit({
      branch: BRANCH,
      expectedHead: main,
      message: "meanwhile\n\nFailover-Request: y",
      changes: [{ path: "README.md", text: "changed\n" }],
    });
    const outcome = deliverByPullRequest(
      repo,
      settings,
      { branch: "main", ...snap },
      change(BACKUP, "r6"),
    );
    await expect(outcome).rejects.toBeInstanceOf(StaleHeadError);
    expect(git(fake.dir, "show", `${BRANCH}:README.md`)).toBe("changed\n");
  });

  it("an open PR exactly the plan: reused with one compare, the update and auto-merge pinned to its head", async () => {
    configureRepo(fake, { autoMerge: "armed" });
    const plan = change(BACKUP, "r7");
    const read = async () => ({
      branch: "main",
      ...(await repo.read("main", [DB], { failover: true })),
    });
    const first = await deliverByPullRequest(repo, settings, await read(), plan);
    expect(first).toMatchObject({ outcome: "pr_armed", reused: false });
    fake.resetLog();
    const again = await deliverByPullRequest(repo, settings, await read(), change(BACKUP, "r8"));
    expect(again).toMatchObject({ outcome: "pr_armed", reused: true });
    expect(again.pr.headSha).toBe(first.pr.headSha);
    expect(calls()).toEqual([
      "graphql repository",
      `GET /repos/acme/gitops/compare/${await fake.head()}...${first.pr.headSha}`,
      "PATCH /repos/acme/gitops/pulls/1",
      "graphql enablePullRequestAutoMerge",
    ]);
    // The merge commit will name the request that armed it last (the PR text is its too).
    expect(pullsState(fake).pulls[0]?.autoMerge?.commitBody).toMatch(/^Failover-Request: r8$/m);
  });

  it("an open PR with more than the plan: moved back to main (compare-and-swap) and recommitted", async () => {
    configureRepo(fake, { autoMerge: "armed" });
    const main = await fake.head();
    await settings.port.createBranch(BRANCH, main);
    const wider = await repo.commit({
      branch: BRANCH,
      expectedHead: main,
      message: "failover(db): and more\n\nFailover-Request: r9",
      changes: [
        { path: DB, text: BACKUP },
        { path: "README.md", text: "another service\n" },
      ],
    });
    await openPr(BRANCH);
    const snap = await repo.read("main", [DB], { failover: true });
    fake.resetLog();
    const outcome = await deliverByPullRequest(
      repo,
      settings,
      { branch: "main", ...snap },
      change(BACKUP, "r10"),
    );
    expect(outcome).toMatchObject({ outcome: "pr_armed", reused: true });
    expect(calls()).toEqual([
      `GET /repos/acme/gitops/compare/${main}...${wider.sha}`,
      "graphql updateRefs",
      "graphql createCommitOnBranch",
      "PATCH /repos/acme/gitops/pulls/1",
      "graphql enablePullRequestAutoMerge",
    ]);
    expect(git(fake.dir, "diff", "--name-only", "main", BRANCH).trim()).toBe(DB);
    expect(git(fake.dir, "rev-parse", `${BRANCH}~1`).trim()).toBe(main);
    await completeChecks(fake);
    expect(git(fake.dir, "show", "main:README.md")).toBe("# gitops\n");
    expect(git(fake.dir, "show", `main:${DB}`)).toBe(BACKUP);
  });

  it("an open PR whose branch moved after the read is not forced: the flow re-reads", async () => {
    configureRepo(fake, { autoMerge: "armed" });
    const main = await fake.head();
    await settings.port.createBranch(BRANCH, main);
    const wider = await repo.commit({
      branch: BRANCH,
      expectedHead: main,
      message: "failover(db): and more\n\nFailover-Request: r11",
      changes: [{ path: "README.md", text: "another service\n" }],
    });
    await openPr(BRANCH);
    const snap = await repo.read("main", [DB], { failover: true });
    const later = await repo.commit({
      branch: BRANCH,
      expectedHead: wider.sha,
      message: "meanwhile\n\nFailover-Request: r12",
      changes: [{ path: "README.md", text: "again\n" }],
    });
    const outcome = deliverByPullRequest(
      repo,
      settings,
      { branch: "main", ...snap },
      change(BACKUP, "r13"),
    );
    await expect(outcome).rejects.toBeInstanceOf(StaleHeadError);
    expect(git(fake.dir, "rev-parse", BRANCH).trim()).toBe(later.sha);
    expect(pullsState(fake).pulls[0]?.autoMerge).toBeNull();
  });

  it("failover history by trailer: one GraphQL query, parsed with the schema built once", async () => {
    const head = await fake.head();
    const landed = await repo.commit({
      branch: "main",
      expectedHead: head,
      message: change(BACKUP, "r7").message,
      changes: [{ path: DB, text: BACKUP }],
    });
    fake.resetLog();
    const entries = await repo.history("main", {
      trailer: "Failover-Service: db",
      paths: [DB],
      limit: 5,
    });
    expect(entries.map((e) => e.sha)).toEqual([landed.sha]);
    expect(calls()).toEqual(["graphql repository"]);
  });
});
