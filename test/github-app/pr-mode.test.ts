import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { composeRuntime } from "../../src/compose.js";
import { parseEnv } from "../../src/config/env.js";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { createHttpApp, listen } from "../../src/server.js";
import { type FakeGitHub, type LoggedRequest, startFakeGitHub } from "../fake-github/index.js";
import {
  completeChecks,
  configureRepo,
  type FakeRepoSettings,
  gitOf,
  pullsState,
} from "../fake-github/pull-merge.js";
import { demoRepoFiles } from "../helpers/files.js";
import { commitCount, fileAt, git } from "../helpers/git.js";
import { TEST_BOUNDS } from "../helpers/test-bounds.js";

const MANIFEST = "clusters/homelab/apps/media/sonarr/deployment.yaml";
const BRANCH = "failover/sonarr";
const FAILOVER_LINES = [
  "-        role: primary",
  "+        role: backup",
  "-            claimName: pvc-sonarr",
  "+            claimName: pvc-sonarr-backup",
];

const exampleFiles = demoRepoFiles;

interface Harness {
  readonly fake: FakeGitHub;
  /** POST /api/failover/{service}/{verb}{query} on the real server (service: sonarr). */
  failover(
    verb: string,
    query?: string,
    service?: string,
  ): Promise<{ status: number; body: FailoverBody }>;
  /** A REST call to the fake, as another GitHub client would make it. */
  github(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

interface FailoverBody {
  outcome: string;
  mode: string;
  from: string;
  to: string;
  pull_request?: { number: number; url: string; reused: boolean };
  merge?: { sha: string };
  diff?: string;
  error?: { code: string; message: string };
}

const open: Harness[] = [];

async function start(
  settings: Partial<FakeRepoSettings>,
  env: Record<string, string> = {},
): Promise<Harness> {
  const fake = await startFakeGitHub({ files: exampleFiles(), owner: "acme", repo: "gitops" });
  configureRepo(fake, settings);
  const logger = pino({ level: "silent" });
  const runtime = await composeRuntime(
    parseEnv({
      GITOPS_REPOSITORY: "acme/gitops",
      GITHUB_TOKEN: "ghs_test",
      GHE_HOST: new URL(fake.webUrl).host,
      GHE_PROTOCOL: "http",
      FAILOVER_CONFIG: DEMO_CONFIG,
      FAILOVER_MODE: "pr",
      ...TEST_BOUNDS,
      ...env,
    }),
    logger,
  );
  const server = await listen(
    createHttpApp(runtime.ctx, logger, { webhooks: runtime.webhooks }),
    0,
    "127.0.0.1",
  );
  const harness: Harness = {
    fake,
    async failover(verb, query = "", service = "sonarr") {
      const response = await fetch(`${server.url}/api/failover/${service}/${verb}${query}`, {
        method: "POST",
      });
      const body = (await response.json()) as FailoverBody;
      // The after-effects (audit, superseded PRs) run after the answer: wait for them, so
      // the calls counted below are the whole request's.
      await runtime.background.idle();
      return { status: response.status, body };
    },
    async github(method, path, body) {
      const response = await fetch(`${fake.url}${path}`, {
        method,
        headers: { authorization: "token ghs_other", "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
    },
    async close() {
      await server.close();
      await fake.close();
    },
  };
  open.push(harness);
  return harness;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

const calls = (fake: FakeGitHub): string[] =>
  fake.requests.map((r: LoggedRequest) =>
    r.path === "/graphql"
      ? `graphql ${r.operationType ?? "?"} ${(r.rootFields ?? []).join(",")}`
      : `${r.method} ${r.path}`,
  );
/** The failover's own calls: without the Deployments audit (another concern, best effort). */
const failoverCalls = (fake: FakeGitHub): string[] =>
  calls(fake).filter((c) => !c.includes("/deployments"));

const changedLines = (fake: FakeGitHub, from: string, to: string): string[] =>
  git(fake.dir, "diff", "--unified=0", from, to)
    .split("\n")
    .filter((l) => /^[+-]/.test(l) && !/^(\+\+\+|---) /.test(l));
const branchExists = (fake: FakeGitHub, branch: string): boolean =>
  git(fake.dir, "branch", "--list", branch).trim() !== "";
const sonarrOn = (fake: FakeGitHub, ref = "main"): string =>
  /role: (\w+)/.exec(fileAt(fake.dir, ref, MANIFEST))?.[1] ?? "?";

describe("PR mode through the real server against the fake GitHub", () => {
  it("auto-merge armed: pr_armed, one PR whose branch has one commit with only the placement lines; main untouched until checks complete", async () => {
    const h = await start({ autoMerge: "armed" });
    const mainBefore = await h.fake.head();
    h.fake.resetLog();
    const res = await h.failover("promote");
    expect(res.status).toBe(200);
    const armedCalls = failoverCalls(h.fake);
    // The read already said whether a PR or a leftover branch exists: 4 writes follow it.
    expect(armedCalls.slice(3)).toEqual([
      "POST /repos/acme/gitops/git/refs",
      "graphql mutation createCommitOnBranch",
      "POST /repos/acme/gitops/pulls",
      "graphql mutation enablePullRequestAutoMerge",
    ]);
    console.info(`PR-mode failover, auto-merge armed: cold ${armedCalls.length} API calls`);
    expect(res.body).toMatchObject({
      outcome: "pr_armed",
      mode: "pr",
      from: "primary",
      to: "backup",
      pull_request: { number: 1, url: `${h.fake.webUrl}/acme/gitops/pull/1`, reused: false },
    });

    const { pulls, merges } = pullsState(h.fake);
    expect(pulls).toHaveLength(1);
    expect(merges).toBe(0);
    const pr = pulls[0];
    expect(pr).toMatchObject({
      state: "open",
      headRef: BRANCH,
      baseRef: "main",
      title: "failover(sonarr): promote to backup",
      autoMerge: { mergeMethod: "squash" },
    });
    // One commit on the branch, on top of main, changing only the two placement lines.
    expect(await h.fake.head()).toBe(mainBefore);
    expect(git(h.fake.dir, "rev-list", `main..${BRANCH}`).trim().split("\n")).toHaveLength(1);
    expect(git(h.fake.dir, "rev-parse", `${BRANCH}~1`).trim()).toBe(mainBefore);
    expect(git(h.fake.dir, "diff", "--name-only", "main", BRANCH).trim()).toBe(MANIFEST);
    expect(changedLines(h.fake, "main", BRANCH)).toEqual(FAILOVER_LINES);

    // The body carries the move, the requester and the diff.
    expect(pr?.body).toContain("**primary → backup**");
    expect(pr?.body).toContain("| `sonarr` | `promote` | `primary` | `backup` |");
    expect(pr?.body).toContain("Requested by http 127.0.0.1 through `http`.");
    expect(pr?.body).toContain("```diff\n");
    expect(pr?.body).toContain("+            claimName: pvc-sonarr-backup");
    expect(res.body.diff).toBeDefined();
    expect(pr?.body).toContain(res.body.diff?.trimEnd());

    // GitHub merges once the checks pass: a squash commit on main.
    const merged = await completeChecks(h.fake);
    expect([...merged.keys()]).toEqual([1]);
    expect(sonarrOn(h.fake)).toBe("backup");
    expect(changedLines(h.fake, mainBefore, "main")).toEqual(FAILOVER_LINES);
    expect(git(h.fake.dir, "log", "-1", "--format=%s", "main").trim()).toBe(
      "failover(sonarr): promote to backup (#1)",
    );

    // Asking again once merged: main is on backup already.
    h.fake.resetLog();
    const again = await h.failover("promote");
    expect(again.body.outcome).toBe("no_op");
    expect(pullsState(h.fake).pulls).toHaveLength(1);
    // One read, which also lists the pending PRs the no-op would supersede: nothing else.
    expect(failoverCalls(h.fake).filter((c) => !c.startsWith("graphql query"))).toEqual([]);
  });

  it("auto-merge not allowed: merged directly with the head sha, branch deleted, exactly one merge", async () => {
    const h = await start({ autoMerge: "not_allowed" }, { FAILOVER_MODE: "urgent" });
    const mainBefore = await h.fake.head();
    h.fake.resetLog();
    const res = await h.failover("promote", "?mode=pr");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      outcome: "pr_merged",
      mode: "pr",
      pull_request: { number: 1, url: `${h.fake.webUrl}/acme/gitops/pull/1`, reused: false },
    });
    const mainAfter = await h.fake.head();
    expect(res.body.merge?.sha).toBe(mainAfter);
    expect(sonarrOn(h.fake)).toBe("backup");
    expect(changedLines(h.fake, mainBefore, "main")).toEqual(FAILOVER_LINES);
    expect(commitCount(h.fake.dir)).toBe(2); // squash: one commit on main
    expect(branchExists(h.fake, BRANCH)).toBe(false);
    const { pulls, merges } = pullsState(h.fake);
    expect(merges).toBe(1);
    expect(pulls[0]).toMatchObject({ state: "closed", merged: true, mergeCommitSha: mainAfter });

    // The merge was pinned to the head the app committed.
    const put = h.fake.requests.find((r) => r.method === "PUT");
    expect(put?.body).toMatchObject({ merge_method: "squash", sha: pulls[0]?.headSha });
    expect(put?.status).toBe(200);

    const prCalls = (n: number, _branch: string) => [
      // (whether an open PR or a leftover branch exists came with the read)
      "POST /repos/acme/gitops/git/refs",
      "graphql mutation createCommitOnBranch",
      "POST /repos/acme/gitops/pulls",
      "graphql mutation enablePullRequestAutoMerge",
      // main still where the plan was read (a stale plan is never merged)
      "GET /repos/acme/gitops/git/ref/heads%2Fmain",
      `PUT /repos/acme/gitops/pulls/${n}/merge`,
    ];
    const cold = failoverCalls(h.fake);
    expect(cold).toEqual([
      "GET /repos/acme/gitops", // the default branch, once per process
      "GET /repos/acme/gitops/git/trees/main", // finding sonarr's manifest (no path configured)
      "graphql query repository", // base head + manifest in one read
      ...prCalls(1, "failover%2Fsonarr"),
      // (delete_branch_on_merge came with the read too)
      "DELETE /repos/acme/gitops/git/refs/heads%2Ffailover%2Fsonarr",
    ]);
    const coldAudit = calls(h.fake).length - cold.length;

    // Warm: radarr (path configured), default branch and repository settings already known.
    h.fake.resetLog();
    const radarr = await h.failover("promote", "?mode=pr", "radarr");
    expect(radarr.body).toMatchObject({ outcome: "pr_merged", pull_request: { number: 2 } });
    const warm = failoverCalls(h.fake);
    expect(warm).toEqual([
      "graphql query repository",
      ...prCalls(2, "failover%2Fradarr"),
      "DELETE /repos/acme/gitops/git/refs/heads%2Ffailover%2Fradarr",
    ]);
    console.info(
      `PR-mode failover, auto-merge not allowed -> direct merge: cold ${cold.length} API calls, ` +
        `warm ${warm.length} (+${coldAudit} for the Deployments audit when served)\n  ` +
        cold.join("\n  "),
    );

    // Promote after the merged PR: nothing to do.
    const again = await h.failover("promote", "?mode=pr");
    expect(again.body.outcome).toBe("no_op");
    expect(pullsState(h.fake).pulls).toHaveLength(2); // sonarr's and radarr's, both merged
    expect(pullsState(h.fake).merges).toBe(2);
  });

  it("clean status: merged directly; the repository deletes the branch itself; no Deployments needed", async () => {
    const h = await start({ autoMerge: "clean", deleteBranchOnMerge: true });
    // A GitHub without the Deployments audit: its failure is logged and ignored.
    h.fake.inject({
      match: { method: "POST", path: /\/deployments$/ },
      times: Number.POSITIVE_INFINITY,
      respond: { status: 404 },
    });
    const mainBefore = await h.fake.head();
    h.fake.resetLog();
    const res = await h.failover("promote");
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe("pr_merged");
    expect(res.body).not.toHaveProperty("deployment");
    expect(res.body.merge?.sha).toBe(await h.fake.head());
    expect(changedLines(h.fake, mainBefore, "main")).toEqual(FAILOVER_LINES);
    expect(branchExists(h.fake, BRANCH)).toBe(false);
    expect(pullsState(h.fake).merges).toBe(1);
    // GitHub deleted it: the app only asked whether it would.
    expect(calls(h.fake)).toContain("GET /repos/acme/gitops");
    expect(calls(h.fake).some((c) => c.startsWith("DELETE"))).toBe(false);
    console.info(
      `PR-mode failover (clean status, delete_branch_on_merge): ${failoverCalls(h.fake).length} API calls`,
    );
  });

  it("FAILOVER_PR_FALLBACK=review and auto-merge not allowed: pr_opened, nothing merged", async () => {
    const h = await start({ autoMerge: "not_allowed" }, { FAILOVER_PR_FALLBACK: "review" });
    const mainBefore = await h.fake.head();
    const res = await h.failover("promote");
    expect(res.body).toMatchObject({ outcome: "pr_opened", pull_request: { number: 1 } });
    expect(await h.fake.head()).toBe(mainBefore);
    expect(pullsState(h.fake).merges).toBe(0);
    expect(pullsState(h.fake).pulls[0]).toMatchObject({ state: "open", autoMerge: null });
    expect(branchExists(h.fake, BRANCH)).toBe(true);
    expect(h.fake.requests.some((r) => r.method === "PUT")).toBe(false);
  });

  it("a second promote while the PR is open reuses it: no second PR, no second commit", async () => {
    const h = await start({ autoMerge: "armed" });
    const first = await h.failover("promote");
    expect(first.body).toMatchObject({ outcome: "pr_armed", pull_request: { reused: false } });
    const branchHead = git(h.fake.dir, "rev-parse", BRANCH).trim();

    h.fake.resetLog();
    const second = await h.failover("promote");
    expect(second.body).toMatchObject({
      outcome: "pr_armed",
      pull_request: { number: 1, reused: true },
    });
    expect(pullsState(h.fake).pulls).toHaveLength(1);
    expect(git(h.fake.dir, "rev-parse", BRANCH).trim()).toBe(branchHead);
    expect(git(h.fake.dir, "rev-list", `main..${BRANCH}`).trim().split("\n")).toHaveLength(1);
    const seen = failoverCalls(h.fake);
    expect(seen).not.toContain("POST /repos/acme/gitops/pulls");
    expect(seen).not.toContain("graphql mutation createCommitOnBranch");
    // Exactly the plan (one compare, base...head): the PR text updated, auto-merge re-armed
    // on the head compared. No move, no commit.
    expect(seen.slice(-3)).toEqual([
      `GET /repos/acme/gitops/compare/${await h.fake.head()}...${branchHead}`,
      "PATCH /repos/acme/gitops/pulls/1",
      "graphql mutation enablePullRequestAutoMerge",
    ]);
    expect(seen).not.toContain("graphql mutation updateRefs");
  });

  it("a leftover branch of a closed PR is replaced by a fresh one from main", async () => {
    const h = await start({ autoMerge: "not_allowed" });
    const main = await h.fake.head();
    // An old attempt of ours (a failover commit: it names its request), with an unrelated
    // file, its PR closed unmerged. (A branch with anyone else's commit is left alone: 409,
    // see test/proof/pr-recovery.test.ts.)
    expect(
      (
        await h.github("POST", "/repos/acme/gitops/git/refs", {
          ref: `refs/heads/${BRANCH}`,
          sha: main,
        })
      ).status,
    ).toBe(201);
    await h.fake.repo.commit({
      branch: BRANCH,
      expectedHead: main,
      message:
        "stale attempt\n\nFailover-Service: sonarr\nFailover-Request: 00000000-0000-4000-8000-000000000000",
      changes: [{ path: "stale.txt", text: "left over\n" }],
    });
    const opened = await h.github("POST", "/repos/acme/gitops/pulls", {
      title: "old",
      head: `acme:${BRANCH}`,
      base: "main",
    });
    expect(opened.status).toBe(201);
    expect(
      (await h.github("PATCH", "/repos/acme/gitops/pulls/1", { state: "closed" })).status,
    ).toBe(200);
    h.fake.resetLog();

    const res = await h.failover("promote");
    expect(res.body).toMatchObject({ outcome: "pr_merged", pull_request: { number: 2 } });
    const seen = calls(h.fake);
    // Moved back to main with one compare-and-swap, not deleted and created again.
    expect(seen).toContain("graphql mutation updateRefs");
    expect(seen).not.toContain("POST /repos/acme/gitops/git/refs");
    // Its only deletion is the merged branch's, after the merge.
    expect(seen.findIndex((c) => c.startsWith("DELETE"))).toBeGreaterThan(
      seen.findIndex((c) => c.startsWith("PUT")),
    );
    // Only the failover reached main; the stale commit did not.
    expect(git(h.fake.dir, "diff", "--name-only", main, "main").trim()).toBe(MANIFEST);
    expect(changedLines(h.fake, main, "main")).toEqual(FAILOVER_LINES);
    expect(pullsState(h.fake).pulls.map((p) => [p.number, p.merged])).toEqual([
      [1, false],
      [2, true],
    ]);
  });

  it("a merge whose answer is lost still ends as pr_merged, merged once", async () => {
    const h = await start({ autoMerge: "not_allowed" });
    const mainBefore = await h.fake.head();
    const fault = h.fake.inject({
      match: { method: "PUT", path: /\/pulls\/\d+\/merge$/ },
      landThenFail: { status: 502 },
    });
    h.fake.resetLog();
    const res = await h.failover("promote");
    expect(fault.remaining).toBe(0);
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe("pr_merged");
    expect(res.body.merge?.sha).toBe(await h.fake.head());
    expect(pullsState(h.fake).merges).toBe(1);
    expect(changedLines(h.fake, mainBefore, "main")).toEqual(FAILOVER_LINES);
    // The PR told what happened: no second merge request.
    const seen = calls(h.fake);
    expect(seen.filter((c) => c.startsWith("PUT"))).toHaveLength(1);
    expect(seen).toContain("GET /repos/acme/gitops/pulls/1");
    expect(branchExists(h.fake, BRANCH)).toBe(false);
  });

  it("a head that moved before the merge: 409 from GitHub becomes a conflict, the PR stays open", async () => {
    const h = await start({ autoMerge: "not_allowed" });
    h.fake.inject({
      match: { method: "PUT", path: /\/pulls\/\d+\/merge$/ },
      respond: {
        status: 409,
        body: { message: "Head branch was modified. Review and try the merge again." },
      },
    });
    const res = await h.failover("promote");
    expect(res.status).toBe(409);
    expect(res.body.error?.code).toBe("conflict");
    expect(res.body.error?.message).toMatch(
      /pull request #1 cannot be merged now \(its head moved\)/,
    );
    expect(pullsState(h.fake).pulls[0]).toMatchObject({ state: "open", merged: false });
    expect(calls(h.fake).filter((c) => c.startsWith("PUT"))).toHaveLength(1);
  });
});

/** The fake's pull requests answer like GitHub's documentation says (the tests above rely on it). */
describe("the fake GitHub's refs, pull requests and auto-merge", () => {
  const repo = "/repos/acme/gitops";
  let h: Harness;
  let main: string;

  /** A branch with one commit changing `path` from main. */
  async function branch(name: string, path: string, text: string, from?: string): Promise<string> {
    const base = from ?? main;
    const made = await h.github("POST", `${repo}/git/refs`, {
      ref: `refs/heads/${name}`,
      sha: base,
    });
    expect(made.status).toBe(201);
    return (
      await h.fake.repo.commit({
        branch: name,
        expectedHead: base,
        message: `change ${path}`,
        changes: [{ path, text }],
      })
    ).sha;
  }
  const openPull = (head: string) =>
    h.github("POST", `${repo}/pulls`, { title: `PR ${head}`, head: `acme:${head}`, base: "main" });
  const autoMerge = (id: string) =>
    h.github("POST", "/graphql", {
      query: `mutation($id: ID!) { enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: REBASE }) { pullRequest { number autoMergeRequest { mergeMethod } } } }`,
      variables: { id },
    });

  it("refs: create once (422 Reference already exists), delete once (422 Reference does not exist)", async () => {
    h = await start({});
    main = await h.fake.head();
    const ref = { ref: "refs/heads/x", sha: main };
    expect((await h.github("POST", `${repo}/git/refs`, ref)).body).toMatchObject({
      ref: "refs/heads/x",
      object: { sha: main },
    });
    expect(await h.github("POST", `${repo}/git/refs`, ref)).toMatchObject({
      status: 422,
      body: { message: "Reference already exists" },
    });
    expect((await h.github("DELETE", `${repo}/git/refs/heads/x`)).status).toBe(204);
    expect(await h.github("DELETE", `${repo}/git/refs/heads%2Fx`)).toMatchObject({
      status: 422,
      body: { message: "Reference does not exist" },
    });
  });

  it("pulls: create, list by head, the errors GitHub gives, merge pinned to the head", async () => {
    h = await start({});
    main = await h.fake.head();
    expect((await openPull("nope")).status).toBe(422); // no such branch
    await h.github("POST", `${repo}/git/refs`, { ref: "refs/heads/same", sha: main });
    expect((await openPull("same")).body).toMatchObject({
      errors: [{ message: "No commits between main and same" }],
    });
    const head = await branch("a", "a.txt", "a\n");
    const created = await openPull("a");
    expect(created).toMatchObject({
      status: 201,
      body: {
        number: 1,
        state: "open",
        merged: false,
        head: { ref: "a", sha: head },
        base: { ref: "main", sha: main },
        auto_merge: null,
        mergeable: true,
        html_url: `${h.fake.webUrl}/acme/gitops/pull/1`,
      },
    });
    expect((await openPull("a")).body).toMatchObject({
      message: "Validation Failed",
      errors: [{ message: "A pull request already exists for acme:a." }],
    });
    const listed = await h.github(
      "GET",
      `${repo}/pulls?state=open&head=acme%3Aa&base=main&per_page=1`,
    );
    expect((listed.body as { number: number }[]).map((p) => p.number)).toEqual([1]);
    expect((await h.github("GET", `${repo}/pulls?head=acme%3Ab`)).body).toEqual([]);

    expect(await h.github("PUT", `${repo}/pulls/1/merge`, { sha: main })).toMatchObject({
      status: 409,
      body: { message: "Head branch was modified. Review and try the merge again." },
    });
    const merged = await h.github("PUT", `${repo}/pulls/1/merge`, {
      sha: head,
      merge_method: "merge",
    });
    expect(merged).toMatchObject({ status: 200, body: { merged: true } });
    const sha = (merged.body as { sha: string }).sha;
    expect(await h.fake.head()).toBe(sha);
    expect(git(h.fake.dir, "rev-list", "--parents", "-1", "main").trim()).toBe(
      `${sha} ${main} ${head}`,
    );
    expect(await h.github("PUT", `${repo}/pulls/1/merge`, { sha: head })).toMatchObject({
      status: 405,
      body: { message: "Pull Request is not mergeable" },
    });
    expect((await h.github("GET", `${repo}/pulls/1`)).body).toMatchObject({
      state: "closed",
      merged: true,
      merge_commit_sha: sha,
    });
    expect(branchExists(h.fake, "a")).toBe(true); // delete_branch_on_merge is off by default
    expect((await h.github("GET", repo)).body).toMatchObject({ delete_branch_on_merge: false });
  });

  it("conflicting PRs are not mergeable (405); PATCH edits and closes", async () => {
    h = await start({});
    main = await h.fake.head();
    const first = await branch("one", "same.txt", "one\n");
    await branch("two", "same.txt", "two\n");
    await openPull("one");
    await openPull("two");
    await h.github("PUT", `${repo}/pulls/1/merge`, { sha: first, merge_method: "squash" });
    expect((await h.github("GET", `${repo}/pulls/2`)).body).toMatchObject({
      mergeable: false,
      mergeable_state: "dirty",
    });
    expect((await h.github("PUT", `${repo}/pulls/2/merge`, {})).status).toBe(405);
    const patched = await h.github("PATCH", `${repo}/pulls/2`, { title: "new", state: "closed" });
    expect(patched.body).toMatchObject({ title: "new", state: "closed", merged: false });
  });

  it("two PRs for one head opened at once: one 201, the other 422 (one open PR per head)", async () => {
    h = await start({});
    main = await h.fake.head();
    await branch("d", "d.txt", "d\n");
    const answers = await Promise.all([openPull("d"), openPull("d")]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 422]);
    expect(pullsState(h.fake).pulls.filter((p) => p.state === "open")).toHaveLength(1);
  });

  it("two merges of one PR at once: one lands, the other is 405 (a PR merges once)", async () => {
    h = await start({});
    main = await h.fake.head();
    const head = await branch("c", "c.txt", "c\n");
    await openPull("c");
    // Hold the first merge right after it moved main, before it marks the PR merged; let it
    // go when the second merge moves main too (the bug), or after a while (it waits its turn).
    const runner = gitOf(h.fake);
    const run = runner.run.bind(runner);
    let atGate: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      atGate = resolve;
    });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let moves = 0;
    runner.run = async (args, options) => {
      const mainMove = args[0] === "update-ref" && args[1] === "refs/heads/main";
      if (mainMove && ++moves === 2) release();
      const out = await run(args, options);
      if (mainMove && moves === 1) {
        atGate();
        setTimeout(release, 300);
        await gate;
      }
      return out;
    };
    try {
      const merge = () =>
        h.github("PUT", `${repo}/pulls/1/merge`, { sha: head, merge_method: "squash" });
      const first = merge();
      await held;
      const answers = await Promise.all([first, merge()]);
      expect(answers.map((a) => a.status)).toEqual([200, 405]);
      expect(pullsState(h.fake).merges).toBe(1);
      expect(git(h.fake.dir, "rev-parse", "main~1").trim()).toBe(main);
    } finally {
      runner.run = run;
    }
  });

  it("auto-merge: armed records the method; checks complete merge it (rebase) and delete the branch", async () => {
    h = await start({ autoMerge: "armed", deleteBranchOnMerge: true });
    main = await h.fake.head();
    const head = await branch("r", "r.txt", "r\n");
    const pr = (await openPull("r")).body as { node_id: string };
    expect(await autoMerge(pr.node_id)).toMatchObject({
      status: 200,
      body: {
        data: {
          enablePullRequestAutoMerge: {
            pullRequest: { number: 1, autoMergeRequest: { mergeMethod: "REBASE" } },
          },
        },
      },
    });
    expect((await h.github("GET", `${repo}/pulls/1`)).body).toMatchObject({
      auto_merge: { merge_method: "rebase" },
    });
    // main moves on meanwhile: the rebase replays the PR's commit on top (a real 3-way).
    const moved = (
      await h.fake.repo.commit({
        branch: "main",
        expectedHead: main,
        message: "elsewhere",
        changes: [{ path: "other.txt", text: "o\n" }],
      })
    ).sha;
    await completeChecks(h.fake);
    expect(git(h.fake.dir, "rev-parse", "main~1").trim()).toBe(moved);
    expect(git(h.fake.dir, "log", "-1", "--format=%s|%an", "main").trim()).toBe(
      `change r.txt|${git(h.fake.dir, "log", "-1", "--format=%an", head).trim()}`,
    );
    expect(git(h.fake.dir, "ls-tree", "--name-only", "main")).toMatch(/other\.txt[\s\S]*r\.txt/);
    expect(branchExists(h.fake, "r")).toBe(false);
    expect((await h.github("GET", repo)).body).toMatchObject({ delete_branch_on_merge: true });
  });

  it.each([
    ["not_allowed", "Pull request Auto merge is not allowed for this repository"],
    ["clean", "Pull request is in clean status"],
  ] as const)("auto-merge %s: HTTP 200 with an UNPROCESSABLE error", async (behaviour, message) => {
    h = await start({ autoMerge: behaviour });
    main = await h.fake.head();
    await branch("b", "b.txt", "b\n");
    const pr = (await openPull("b")).body as { node_id: string };
    expect(await autoMerge(pr.node_id)).toEqual({
      status: 200,
      body: {
        data: { enablePullRequestAutoMerge: null },
        errors: [
          {
            type: "UNPROCESSABLE",
            path: ["enablePullRequestAutoMerge"],
            locations: [expect.any(Object)],
            message,
          },
        ],
      },
    });
  });
});

describe("a pending failover PR never undoes a later failover", () => {
  it("demote while a promote PR is armed: no_op on main, and the promote PR is closed with its branch", async () => {
    const h = await start({ autoMerge: "armed" });
    const armed = await h.failover("promote");
    expect(armed.body.outcome).toBe("pr_armed");
    const res = await h.failover("demote");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      outcome: "no_op",
      superseded_pull_request: { number: 1 },
    });
    const pr = pullsState(h.fake).pulls[0];
    expect(pr?.state).toBe("closed");
    expect(branchExists(h.fake, BRANCH)).toBe(false);
    // Checks completing later merge nothing: sonarr stays on primary.
    expect([...(await completeChecks(h.fake)).keys()]).toEqual([]);
    expect(sonarrOn(h.fake)).toBe("primary");
  });

  it("an urgent promote closes the pending PR it supersedes", async () => {
    const h = await start({ autoMerge: "armed" });
    await h.failover("promote");
    const res = await h.failover("promote", "?mode=urgent");
    // Answered at landing; the pending PR is closed after the answer, by a listener.
    expect(res.body).toMatchObject({ outcome: "applied" });
    expect(sonarrOn(h.fake)).toBe("backup");
    expect(pullsState(h.fake).pulls[0]?.state).toBe("closed");
    expect(pullsState(h.fake).merges).toBe(0);
  });
});
