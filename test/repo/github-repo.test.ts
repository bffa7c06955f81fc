import { Octokit } from "@octokit/rest";
import { ProbotOctokit } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FailoverError, StaleHeadError } from "../../src/domain/errors.js";
import type { GitHubClient } from "../../src/repo/github/client.js";
import { GitHubRepo } from "../../src/repo/github/github-repo.js";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.js";
import { commitCount, fileAt, git } from "../helpers/git.js";
import { describeRepoContract } from "./repo-contract.js";

const TOKEN = "ghs_testtoken0123456789abcdefghijklmnop";

/** A plain client: no retry, no throttling (the defaults of @octokit/rest). */
function plainClient(fake: FakeGitHub): Octokit {
  return new Octokit({ baseUrl: fake.url, auth: TOKEN, log: silentLog });
}

const silentLog = { debug() {}, info() {}, warn() {}, error() {} };

function adapter(fake: FakeGitHub, octokit: GitHubClient = plainClient(fake)): GitHubRepo {
  return new GitHubRepo({
    octokit,
    owner: fake.owner,
    repo: fake.repoName,
    serverUrl: fake.webUrl,
  });
}

describeRepoContract("GitHubRepo on fake GitHub", async (files) => {
  const fake = await startFakeGitHub({ files });
  return { repo: adapter(fake), branch: fake.branch, cleanup: () => fake.close() };
});

const DB = "apps/db/statefulset.yaml";
const FILES: Record<string, string> = {
  [DB]: "kind: StatefulSet\nnodeSelector:\n  role: primary\n",
  "apps/web/deployment.yaml": "kind: Deployment\n",
  "apps/cache/deployment.yaml": "kind: Deployment\nname: cache\n",
  "README.md": "# gitops\n",
};

describe("GitHubRepo on fake GitHub: costs, conflicts, lost answers, limits", () => {
  let fake: FakeGitHub;
  let repo: GitHubRepo;

  beforeEach(async () => {
    fake = await startFakeGitHub({ files: FILES });
    repo = adapter(fake);
  });

  afterEach(async () => {
    await fake.close();
  });

  it("reads N files and the head in exactly one GraphQL request", async () => {
    const head = await fake.head();
    fake.resetLog();
    const snap = await repo.read("main", Object.keys(FILES));
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      method: "POST",
      path: "/graphql",
      rawPath: "/api/graphql", // Octokit's GHES rule: <base>/api/v3 → <base>/api/graphql
      operationType: "query",
      rootFields: ["repository"],
    });
    expect(snap.head).toBe(head);
    for (const [path, text] of Object.entries(FILES)) expect(snap.files.get(path)).toBe(text);
  });

  it("commits N files in exactly one request, as one commit with GitHub's message shape", async () => {
    const before = await repo.read("main", [DB]);
    fake.resetLog();
    const result = await repo.commit({
      branch: "main",
      expectedHead: before.head,
      message: "Fail over db to node-b\n\nFailover-Service: db\nFailover-To: node-b\n",
      changes: [
        { path: DB, text: "kind: StatefulSet\nnodeSelector:\n  role: secondary\n" },
        { path: "apps/web/deployment.yaml", text: "kind: Deployment\n# moved\n" },
      ],
    });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      operationType: "mutation",
      rootFields: ["createCommitOnBranch"],
      status: 200,
    });
    expect(commitCount(fake.dir)).toBe(2);
    expect(git(fake.dir, "rev-parse", "main").trim()).toBe(result.sha);
    expect(git(fake.dir, "rev-parse", "main^").trim()).toBe(before.head);
    expect(git(fake.dir, "log", "-1", "--format=%B", "main").trimEnd()).toBe(
      "Fail over db to node-b\n\nFailover-Service: db\nFailover-To: node-b",
    );
    expect(fileAt(fake.dir, "main", DB)).toContain("role: secondary");
    expect(result.url).toBe(`${fake.webUrl}/acme/gitops/commit/${result.sha}`);
  });

  it("maps STALE_DATA to StaleHeadError after one confirming read, and writes nothing", async () => {
    const stale = await fake.head();
    const moved = await fake.repo.commit({
      branch: "main",
      expectedHead: stale,
      message: "someone else",
      changes: [{ path: "README.md", text: "# moved\n" }],
    });
    fake.resetLog();
    const attempt = repo.commit({
      branch: "main",
      expectedHead: stale,
      message: "Fail over db",
      changes: [{ path: DB, text: "x: 1\n" }],
    });
    await expect(attempt).rejects.toBeInstanceOf(StaleHeadError);
    await expect(attempt).rejects.toMatchObject({
      code: "conflict",
      details: { branch: "main", expected: stale, actual: moved.sha },
    });
    expect(fake.requests.map((r) => r.operationType)).toEqual(["mutation", "query"]);
    expect(commitCount(fake.dir)).toBe(2);
  });

  it("a write that landed but whose answer was lost (502, client retries) is one commit and success", async () => {
    // ProbotOctokit as the app uses it: retry plugin on (fast), throttling off.
    const octokit = new ProbotOctokit({
      auth: { token: TOKEN },
      baseUrl: fake.url,
      retry: { retryAfterBaseValue: 1 },
      throttle: { enabled: false },
      log: silentLog,
    });
    const probotRepo = adapter(fake, octokit);
    const head = await fake.head();
    const fault = fake.inject({
      match: { graphqlMutation: "createCommitOnBranch" },
      landThenFail: { status: 502 },
    });
    fake.resetLog();
    const text = "kind: StatefulSet\nnodeSelector:\n  role: secondary\n";
    const result = await probotRepo.commit({
      branch: "main",
      expectedHead: head,
      message: "Fail over db\n\nFailover-Service: db",
      changes: [{ path: DB, text }],
    });
    expect(fault.remaining).toBe(0);
    // First POST landed (answered 502), the retry got STALE_DATA, the adapter re-read the head.
    expect(fake.requests.map((r) => [r.operationType, r.status])).toEqual([
      ["mutation", 502],
      ["mutation", 200],
      ["query", 200],
    ]);
    expect(commitCount(fake.dir)).toBe(2);
    expect(result.sha).toBe(await fake.head());
    expect(git(fake.dir, "rev-parse", "main^").trim()).toBe(head);
    expect(fileAt(fake.dir, "main", DB)).toBe(text);
  });

  it("a landed write answered 502 without a client retry is confirmed by a re-read", async () => {
    const head = await fake.head();
    fake.inject({
      match: { graphqlMutation: "createCommitOnBranch" },
      landThenFail: { status: 502 },
    });
    fake.resetLog();
    const result = await repo.commit({
      branch: "main",
      expectedHead: head,
      message: "Fail over db",
      changes: [{ path: DB, text: "moved: true\n" }],
    });
    expect(fake.requests.map((r) => [r.operationType, r.status])).toEqual([
      ["mutation", 502],
      ["query", 200],
    ]);
    expect(result.sha).toBe(await fake.head());
    expect(commitCount(fake.dir)).toBe(2);
  });

  it("a 502 that did not land stays an upstream error (no commit, no token in the message)", async () => {
    const head = await fake.head();
    fake.inject({
      match: { graphqlMutation: "createCommitOnBranch" },
      respond: { status: 502, body: { message: "Server Error" } },
    });
    const error = await repo
      .commit({
        branch: "main",
        expectedHead: head,
        message: "Fail over db",
        changes: [{ path: DB, text: "moved: true\n" }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailoverError);
    expect(error).toMatchObject({ code: "upstream" });
    expect((error as Error).message).not.toContain(TOKEN);
    expect((error as FailoverError).cause).toBeDefined();
    expect(commitCount(fake.dir)).toBe(1);
  });

  it("does not take a look-alike commit by someone else for its own", async () => {
    const head = await fake.head();
    const text = "kind: StatefulSet\nnodeSelector:\n  role: secondary\n";
    // Same parent and same file content, different message: someone else's commit.
    await fake.repo.commit({
      branch: "main",
      expectedHead: head,
      message: "Manual failover",
      changes: [{ path: DB, text }],
    });
    const attempt = repo.commit({
      branch: "main",
      expectedHead: head,
      message: "Fail over db",
      changes: [{ path: DB, text }],
    });
    await expect(attempt).rejects.toBeInstanceOf(StaleHeadError);
    // Same parent and message, different content: not ours either.
    const head2 = await fake.head();
    await fake.repo.commit({
      branch: "main",
      expectedHead: head2,
      message: "Fail over db",
      changes: [{ path: DB, text: "other: true\n" }],
    });
    const again = repo.commit({
      branch: "main",
      expectedHead: head2,
      message: "Fail over db",
      changes: [{ path: DB, text }],
    });
    await expect(again).rejects.toBeInstanceOf(StaleHeadError);
    expect(commitCount(fake.dir)).toBe(3);
  });

  it("reports a file GitHub truncates (> 512,000 bytes) as unreadable, not as its text; 512,000 bytes is fine", async () => {
    const head = await fake.head();
    const exact = `${"a".repeat(511_999)}\n`;
    const big = `${"b".repeat(512_000)}\n`;
    await fake.repo.commit({
      branch: "main",
      expectedHead: head,
      message: "large files",
      changes: [
        { path: "apps/exact.yaml", text: exact },
        { path: "apps/big.yaml", text: big },
      ],
    });
    const ok = await repo.read("main", ["apps/exact.yaml"]);
    expect(ok.files.get("apps/exact.yaml")).toBe(exact);
    const read = await repo.read("main", [DB, "apps/big.yaml"]);
    expect(read.files.get("apps/big.yaml")).toBeNull();
    expect(read.unreadable?.get("apps/big.yaml")).toMatch(/larger than the 512000 bytes/);
    expect(typeof read.files.get(DB)).toBe("string");
  });

  it("reports a binary file as unreadable", async () => {
    const head = await fake.head();
    await fake.repo.commit({
      branch: "main",
      expectedHead: head,
      message: "binary",
      changes: [{ path: "apps/blob.bin", text: "PNG\0\0\u0001" }],
    });
    const read = await repo.read("main", ["apps/blob.bin"]);
    expect(read.files.get("apps/blob.bin")).toBeNull();
    expect(read.unreadable?.get("apps/blob.bin")).toBe("a binary file, not text");
  });

  it("an invalid GraphQL document is rejected by validation against GitHub's schema", async () => {
    const octokit = plainClient(fake);
    const error = await octokit
      .graphql('query { repository(owner: "acme", name: "gitops") { noSuchField } }')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "GraphqlResponseError" });
    expect((error as Error).message).toMatch(
      /Cannot query field "noSuchField" on type "Repository"/,
    );
    const badArg = await octokit
      .graphql('query { repository(owner: "acme") { id } }')
      .catch((e: unknown) => e);
    expect((badArg as Error).message).toMatch(/argument "name" of type "String!" is required/);
    const wrongInput = await octokit
      .graphql(
        "mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }",
        { input: { branch: { branchName: "main" }, message: { headline: "x" } } },
      )
      .catch((e: unknown) => e);
    expect((wrongInput as Error).message).toMatch(/expectedHeadOid/);
    expect(commitCount(fake.dir)).toBe(1);
  });

  it("maps unknown repositories and branches to not_found, 403 to forbidden, 5xx to upstream", async () => {
    const other = new GitHubRepo({ octokit: plainClient(fake), owner: "acme", repo: "nope" });
    await expect(other.read("main", [DB])).rejects.toMatchObject({ code: "not_found" });
    await expect(other.defaultBranch()).rejects.toMatchObject({ code: "not_found" });
    await expect(other.listFiles("main", "")).rejects.toMatchObject({ code: "not_found" });
    await expect(repo.listFiles("nope", "")).rejects.toMatchObject({ code: "not_found" });
    await expect(repo.history("nope", { limit: 1 })).rejects.toMatchObject({ code: "not_found" });
    await expect(
      repo.commit({
        branch: "nope",
        expectedHead: await fake.head(),
        message: "m",
        changes: [{ path: DB, text: "x\n" }],
      }),
    ).rejects.toMatchObject({ code: "not_found" });

    fake.inject({
      match: { path: /^\/graphql$/ },
      respond: { status: 403, body: { message: "Resource not accessible by integration" } },
    });
    await expect(repo.read("main", [DB])).rejects.toMatchObject({
      code: "forbidden",
      message: expect.stringContaining("Resource not accessible by integration"),
    });
    fake.inject({ match: { method: "GET", path: /\/git\/trees\// }, respond: { status: 503 } });
    const upstream = await repo.listFiles("main", "").catch((e: unknown) => e);
    expect(upstream).toMatchObject({ code: "upstream" });
    expect((upstream as Error).message).not.toContain(TOKEN);
    fake.inject({ match: { path: /^\/repos\/acme\/gitops$/ }, respond: { status: 401 } });
    await expect(repo.defaultBranch()).rejects.toMatchObject({ code: "upstream" });
    // The failed lookup is not cached.
    expect(await repo.defaultBranch()).toBe("main");
  });

  it("lists a tree GitHub truncates directory by directory, never returning a partial list", async () => {
    const whole = await repo.listFiles("main", "");
    const truncated = {
      status: 200,
      body: { sha: "0".repeat(40), url: "x", tree: [], truncated: true },
    };
    // The recursive listing of the root is cut: the root's own entries, then each directory.
    fake.inject({ match: { path: /\/git\/trees\/main$/ }, respond: truncated });
    fake.resetLog();
    expect(await repo.listFiles("main", "")).toEqual(whole);
    const trees = fake.requests.filter((r) => r.path.includes("/git/trees/"));
    expect(trees.length).toBeGreaterThan(2);
    // A prefix lists only the directories that can hold it.
    fake.inject({ match: { path: /\/git\/trees\/main$/ }, respond: truncated });
    fake.resetLog();
    const scoped = await repo.listFiles("main", "apps/web/");
    expect(scoped).toEqual(whole.filter((p) => p.startsWith("apps/web/")));
    expect(fake.requests.filter((r) => r.path.includes("/git/trees/")).length).toBeLessThan(
      trees.length + 1,
    );
    // Truncated even one directory at a time: upstream, not a partial list.
    fake.inject({
      match: { path: /\/git\/trees\// },
      times: Number.POSITIVE_INFINITY,
      respond: truncated,
    });
    await expect(repo.listFiles("main", "")).rejects.toMatchObject({
      code: "upstream",
      message: expect.stringMatching(/truncated/),
    });
  });

  it("caches the default branch and describes the repository without credentials", async () => {
    fake.resetLog();
    expect(await repo.defaultBranch()).toBe("main");
    expect(await repo.defaultBranch()).toBe("main");
    expect(fake.requests).toHaveLength(1);
    expect(repo.description).toBe(`127.0.0.1:${new URL(fake.url).port}/acme/gitops`);
    const dotCom = new GitHubRepo({ octokit: plainClient(fake), owner: "acme", repo: "gitops" });
    expect(dotCom.description).toBe("github.com/acme/gitops");
  });

  it("history pages through GitHub's 100-per-page limit and returns web URLs", async () => {
    let head = await fake.head();
    for (let i = 0; i < 3; i++) {
      head = (
        await fake.repo.commit({
          branch: "main",
          expectedHead: head,
          message: `change ${i}`,
          changes: [{ path: DB, text: `rev: ${i}\n` }],
        })
      ).sha;
    }
    fake.resetLog();
    const entries = await repo.history("main", { path: DB, limit: 3 });
    expect(entries.map((e) => e.message)).toEqual(["change 2", "change 1", "change 0"]);
    expect(entries[0]?.url).toBe(`${fake.webUrl}/acme/gitops/commit/${head}`);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.query).toEqual({ sha: "main", path: DB, per_page: "3" });
  });

  it("works with a branch name containing a slash", async () => {
    const head = await fake.head();
    git(fake.dir, "branch", "team/prod", head);
    const snap = await repo.read("team/prod", [DB]);
    expect(snap.head).toBe(head);
    expect(await repo.listFiles("team/prod", "apps/db/")).toEqual([DB]);
    const result = await repo.commit({
      branch: "team/prod",
      expectedHead: head,
      message: "on a slashed branch",
      changes: [{ path: DB, text: "slash: true\n" }],
    });
    expect(git(fake.dir, "rev-parse", "team/prod").trim()).toBe(result.sha);
    expect((await repo.history("team/prod", { limit: 1 }))[0]?.sha).toBe(result.sha);
  });
});
