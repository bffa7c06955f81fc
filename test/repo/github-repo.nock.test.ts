import { validate as validateAgainstGitHub } from "@octokit/graphql-schema";
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FailoverError, StaleHeadError } from "../../src/domain/errors.js";
import { GitHubRepo } from "../../src/repo/github/github-repo.js";
import { CREATE_COMMIT_MUTATION, readFilesQuery } from "../../src/repo/github/queries.js";

const API = "https://api.github.com";
const TOKEN = "ghs_nocktoken0123456789abcdefghijklmnopq";
const HEAD = "a".repeat(40);
const PARENT = "b".repeat(40);
const OTHER = "c".repeat(40);

const silentLog = { debug() {}, info() {}, warn() {}, error() {} };

function makeRepo(options: { baseUrl?: string; serverUrl?: string } = {}): GitHubRepo {
  const octokit = new Octokit({
    auth: TOKEN,
    log: silentLog,
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
  });
  return new GitHubRepo({
    octokit,
    owner: "acme",
    repo: "gitops",
    ...(options.serverUrl ? { serverUrl: options.serverUrl } : {}),
  });
}

interface GraphqlBody {
  query: string;
  variables: Record<string, unknown>;
}

/** Intercepts one POST /graphql, recording its body and headers. */
function expectGraphql(reply: unknown, host = API, path = "/graphql") {
  const seen: { body?: GraphqlBody; authorization?: string } = {};
  nock(host)
    .post(path, (body: GraphqlBody) => {
      seen.body = body;
      return true;
    })
    .reply(function () {
      seen.authorization = String(this.req.headers.authorization);
      return [200, reply as Record<string, unknown>];
    });
  return seen;
}

const blob = (text: string, extra: Record<string, unknown> = {}) => ({
  object: { __typename: "Blob", text, isTruncated: false, isBinary: false, ...extra },
});

describe("GitHubRepo on the wire (nock)", () => {
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

  it("documents sent are valid against GitHub's published schema", () => {
    for (const doc of [
      readFilesQuery(0),
      readFilesQuery(3),
      readFilesQuery(2, { verify: true }),
      CREATE_COMMIT_MUTATION,
    ]) {
      expect(validateAgainstGitHub(doc)).toEqual([]);
    }
  });

  it("read: one POST /graphql with the paths as variables, head and files from one commit", async () => {
    const seen = expectGraphql({
      data: {
        repository: {
          ref: {
            target: {
              __typename: "Commit",
              oid: HEAD,
              f0: blob("kind: StatefulSet\n"),
              f1: null,
              f2: { object: { __typename: "Tree" } },
            },
          },
        },
      },
    });
    const snap = await makeRepo().read("main", [
      "apps/db/sts.yaml",
      "apps/missing.yaml",
      "apps/db",
      "apps/db/sts.yaml",
    ]);
    expect(nock.isDone()).toBe(true);
    expect(seen.body).toEqual({
      query: readFilesQuery(3),
      variables: {
        owner: "acme",
        name: "gitops",
        qualifiedName: "refs/heads/main",
        p0: "apps/db/sts.yaml",
        p1: "apps/missing.yaml",
        p2: "apps/db",
      },
    });
    expect(seen.body?.query).toContain("f0: file(path: $p0)");
    expect(seen.body?.query).toContain("text isTruncated isBinary");
    expect(seen.authorization).toBe(`token ${TOKEN}`);
    expect(snap.head).toBe(HEAD);
    expect([...snap.files]).toEqual([
      ["apps/db/sts.yaml", "kind: StatefulSet\n"],
      ["apps/missing.yaml", null],
      ["apps/db", null],
    ]);
  });

  it("read: a null ref is not_found, a truncated or binary blob is reported unreadable by name", async () => {
    expectGraphql({ data: { repository: { ref: null } } });
    await expect(makeRepo().read("gone", ["a.yaml"])).rejects.toMatchObject({
      code: "not_found",
      message: expect.stringContaining("gone"),
    });
    expectGraphql({
      data: {
        repository: {
          ref: {
            target: {
              __typename: "Commit",
              oid: HEAD,
              f0: blob("x".repeat(10), { isTruncated: true }),
            },
          },
        },
      },
    });
    const huge = await makeRepo().read("main", ["huge.yaml"]);
    expect(huge.files.get("huge.yaml")).toBeNull();
    expect(huge.unreadable?.get("huge.yaml")).toMatch(/larger than/);
    expectGraphql({
      data: {
        repository: {
          ref: {
            target: {
              __typename: "Commit",
              oid: HEAD,
              f0: blob("", { text: null, isBinary: true }),
            },
          },
        },
      },
    });
    const logo = await makeRepo().read("main", ["logo.png"]);
    expect(logo.unreadable?.get("logo.png")).toBe("a binary file, not text");
    expect(nock.isDone()).toBe(true);
  });

  it("read: an answer of the wrong shape is an upstream error, not a crash", async () => {
    expectGraphql({ data: { repository: { ref: { target: { __typename: "Commit", oid: 42 } } } } });
    await expect(makeRepo().read("main", [])).rejects.toMatchObject({ code: "upstream" });
    expect(nock.isDone()).toBe(true);
  });

  it("commit: one createCommitOnBranch with headline/body split, base64 contents, no author", async () => {
    const seen = expectGraphql({
      data: {
        createCommitOnBranch: {
          commit: { oid: OTHER, url: `https://github.com/acme/gitops/commit/${OTHER}` },
        },
      },
    });
    const result = await makeRepo().commit({
      branch: "main",
      expectedHead: HEAD.toUpperCase(),
      message: "Fail over db to node-b\n\nThe node is drained.\n\nFailover-Service: db\n",
      changes: [
        { path: "apps/db/sts.yaml", text: "node: b # ✓\r\n" },
        { path: "apps/new.yaml", text: "" },
      ],
    });
    expect(nock.isDone()).toBe(true);
    expect(seen.body).toEqual({
      query: CREATE_COMMIT_MUTATION,
      variables: {
        input: {
          branch: { repositoryNameWithOwner: "acme/gitops", branchName: "main" },
          expectedHeadOid: HEAD,
          message: {
            headline: "Fail over db to node-b",
            body: "The node is drained.\n\nFailover-Service: db",
          },
          fileChanges: {
            additions: [
              {
                path: "apps/db/sts.yaml",
                contents: Buffer.from("node: b # ✓\r\n", "utf8").toString("base64"),
              },
              { path: "apps/new.yaml", contents: "" },
            ],
          },
        },
      },
    });
    expect(result).toEqual({ sha: OTHER, url: `https://github.com/acme/gitops/commit/${OTHER}` });
  });

  it("commit: a one-line message sends no body; invalid input sends nothing", async () => {
    const seen = expectGraphql({
      data: { createCommitOnBranch: { commit: { oid: OTHER, url: "u" } } },
    });
    await makeRepo().commit({
      branch: "main",
      expectedHead: HEAD,
      message: "Fail over db",
      changes: [{ path: "a.yaml", text: "a\n" }],
    });
    expect((seen.body?.variables.input as { message?: unknown } | undefined)?.message).toEqual({
      headline: "Fail over db",
    });
    const repo = makeRepo();
    const base = { branch: "main", expectedHead: HEAD, message: "m" };
    await expect(repo.commit({ ...base, changes: [] })).rejects.toMatchObject({
      code: "invalid_input",
    });
    await expect(
      repo.commit({ ...base, expectedHead: "HEAD", changes: [{ path: "a", text: "" }] }),
    ).rejects.toMatchObject({ code: "invalid_input" });
    await expect(
      repo.commit({ ...base, message: "\n\nbody only", changes: [{ path: "a", text: "" }] }),
    ).rejects.toMatchObject({ code: "invalid_input" });
    await expect(
      repo.commit({ ...base, changes: [{ path: "../x", text: "" }] }),
    ).rejects.toMatchObject({ code: "invalid_input" });
    await expect(repo.read("-x", ["a"])).rejects.toMatchObject({ code: "invalid_input" });
  });

  const staleAnswer = {
    data: { createCommitOnBranch: null },
    errors: [
      {
        type: "STALE_DATA",
        path: ["createCommitOnBranch"],
        locations: [{ line: 2, column: 3 }],
        message: `Expected branch to point to "${HEAD}" but it did not.  Pull and try again.`,
      },
    ],
  };

  it("commit: STALE_DATA → re-read the head → StaleHeadError(branch, expected, actual)", async () => {
    expectGraphql(staleAnswer);
    const verify = expectGraphql({
      data: {
        repository: {
          ref: {
            target: {
              __typename: "Commit",
              oid: OTHER,
              url: "u",
              message: "Someone else",
              parents: { nodes: [{ oid: HEAD }] },
              f0: blob("a: 2\n"),
            },
          },
        },
      },
    });
    const attempt = makeRepo().commit({
      branch: "main",
      expectedHead: HEAD,
      message: "Fail over db",
      changes: [{ path: "a.yaml", text: "a: 2\n" }],
    });
    await expect(attempt).rejects.toBeInstanceOf(StaleHeadError);
    await expect(attempt).rejects.toMatchObject({
      code: "conflict",
      details: { branch: "main", expected: HEAD, actual: OTHER },
    });
    expect(nock.isDone()).toBe(true);
    expect(verify.body).toEqual({
      query: readFilesQuery(1, { verify: true }),
      variables: { owner: "acme", name: "gitops", qualifiedName: "refs/heads/main", p0: "a.yaml" },
    });
  });

  it("commit: STALE_DATA whose head is exactly our write (a retried POST) is success", async () => {
    expectGraphql(staleAnswer);
    expectGraphql({
      data: {
        repository: {
          ref: {
            target: {
              __typename: "Commit",
              oid: OTHER,
              url: `https://github.com/acme/gitops/commit/${OTHER}`,
              message: "Fail over db\n\nFailover-Service: db",
              parents: { nodes: [{ oid: HEAD }] },
              f0: blob("a: 2\n"),
            },
          },
        },
      },
    });
    const result = await makeRepo().commit({
      branch: "main",
      expectedHead: HEAD,
      message: "Fail over db\nFailover-Service: db",
      changes: [{ path: "a.yaml", text: "a: 2\n" }],
    });
    expect(result).toEqual({ sha: OTHER, url: `https://github.com/acme/gitops/commit/${OTHER}` });
    expect(nock.isDone()).toBe(true);
  });

  it("commit: a 5xx is re-checked, then surfaces as upstream with its cause and no token", async () => {
    nock(API).post("/graphql").reply(502, { message: "Server Error" });
    expectGraphql({
      data: {
        repository: {
          ref: {
            target: {
              __typename: "Commit",
              oid: HEAD,
              url: "u",
              message: "Initial",
              parents: { nodes: [{ oid: PARENT }] },
              f0: blob("a: 1\n"),
            },
          },
        },
      },
    });
    const error = await makeRepo()
      .commit({
        branch: "main",
        expectedHead: HEAD,
        message: "m",
        changes: [{ path: "a.yaml", text: "a: 2\n" }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailoverError);
    expect(error).toMatchObject({ code: "upstream", details: { status: 502 } });
    expect((error as FailoverError).cause).toMatchObject({ status: 502 });
    expect((error as Error).message).not.toContain(TOKEN);
    expect(nock.isDone()).toBe(true);
  });

  it("maps 401, 403 and 404 and GraphQL NOT_FOUND / FORBIDDEN", async () => {
    nock(API).get("/repos/acme/gitops").reply(401, { message: "Bad credentials" });
    await expect(makeRepo().defaultBranch()).rejects.toMatchObject({ code: "upstream" });
    nock(API)
      .get("/repos/acme/gitops")
      .reply(403, { message: "Resource not accessible by integration" });
    await expect(makeRepo().defaultBranch()).rejects.toMatchObject({ code: "forbidden" });
    nock(API).get("/repos/acme/gitops").reply(404, { message: "Not Found" });
    await expect(makeRepo().defaultBranch()).rejects.toMatchObject({ code: "not_found" });
    expectGraphql({
      data: { repository: null },
      errors: [
        {
          type: "NOT_FOUND",
          path: ["repository"],
          message: "Could not resolve to a Repository with the name 'acme/gitops'.",
        },
      ],
    });
    await expect(makeRepo().read("main", ["a"])).rejects.toMatchObject({ code: "not_found" });
    expectGraphql({
      data: null,
      errors: [{ type: "FORBIDDEN", message: "Resource not accessible by integration" }],
    });
    await expect(makeRepo().read("main", ["a"])).rejects.toMatchObject({ code: "forbidden" });
    expect(nock.isDone()).toBe(true);
  });

  it("defaultBranch: GET /repos/{owner}/{repo} once, then cached", async () => {
    nock(API).get("/repos/acme/gitops").once().reply(200, { default_branch: "production" });
    const repo = makeRepo();
    expect(await repo.defaultBranch()).toBe("production");
    expect(await repo.defaultBranch()).toBe("production");
    expect(nock.isDone()).toBe(true);
  });

  it("listFiles: GET git/trees/{branch}?recursive=1, blobs under the prefix only", async () => {
    nock(API)
      .get("/repos/acme/gitops/git/trees/team%2Fprod")
      .query({ recursive: "1" })
      .reply(200, {
        sha: HEAD,
        truncated: false,
        tree: [
          { path: "apps", type: "tree", mode: "040000", sha: PARENT },
          { path: "apps/db", type: "tree", mode: "040000", sha: PARENT },
          { path: "apps/db/sts.yaml", type: "blob", mode: "100644", sha: OTHER, size: 3 },
          { path: "apps/sub", type: "commit", mode: "160000", sha: OTHER },
          { path: "README.md", type: "blob", mode: "100644", sha: OTHER, size: 3 },
        ],
      });
    expect(await makeRepo().listFiles("team/prod", "apps/")).toEqual(["apps/db/sts.yaml"]);
    expect(nock.isDone()).toBe(true);
  });

  it("history: GET commits with sha, path, per_page; pages past 100", async () => {
    const commit = (i: number) => ({
      sha: i.toString(16).padStart(40, "0"),
      html_url: `https://github.com/acme/gitops/commit/${i}`,
      author: i === 0 ? { login: "octocat" } : null,
      commit: {
        message: `change ${i}`,
        author: { name: "Author", date: "2024-01-01T00:00:00Z" },
        committer: { name: "GitHub", date: "2024-01-02T00:00:00Z" },
      },
    });
    nock(API)
      .get("/repos/acme/gitops/commits")
      .query({ sha: "main", path: "apps/db/sts.yaml", per_page: "2" })
      .reply(200, [commit(0), commit(1)]);
    const two = await makeRepo().history("main", { path: "apps/db/sts.yaml", limit: 2 });
    expect(two).toEqual([
      {
        sha: commit(0).sha,
        message: "change 0",
        date: "2024-01-02T00:00:00Z",
        author: "octocat",
        url: commit(0).html_url,
      },
      {
        sha: commit(1).sha,
        message: "change 1",
        date: "2024-01-02T00:00:00Z",
        author: "Author",
        url: commit(1).html_url,
      },
    ]);

    nock(API)
      .get("/repos/acme/gitops/commits")
      .query({ sha: "main", per_page: "100" })
      .reply(
        200,
        Array.from({ length: 100 }, (_, i) => commit(i)),
      );
    nock(API)
      .get("/repos/acme/gitops/commits")
      .query({ sha: "main", per_page: "100", page: "2" })
      .reply(
        200,
        Array.from({ length: 30 }, (_, i) => commit(100 + i)),
      );
    const many = await makeRepo().history("main", { limit: 120 });
    expect(many).toHaveLength(120);
    expect(many[119]?.message).toBe("change 119");
    expect(await makeRepo().history("main", { limit: 0 })).toEqual([]);
    expect(nock.isDone()).toBe(true);
  });

  it("GitHub Enterprise Server: GraphQL goes to /api/graphql, links use the server URL", async () => {
    const ghe = "https://ghe.example.com";
    expectGraphql(
      { data: { repository: { ref: { target: { __typename: "Commit", oid: HEAD } } } } },
      ghe,
      "/api/graphql",
    );
    nock(ghe)
      .get("/api/v3/repos/acme/gitops/commits")
      .query(true)
      .reply(200, [
        {
          sha: HEAD,
          author: null,
          commit: {
            message: "m",
            author: { name: "A", date: "2024-01-01T00:00:00Z" },
            committer: null,
          },
        },
      ]);
    const repo = makeRepo({ baseUrl: `${ghe}/api/v3`, serverUrl: ghe });
    expect(repo.description).toBe("ghe.example.com/acme/gitops");
    expect((await repo.read("main", [])).head).toBe(HEAD);
    const [entry] = await repo.history("main", { limit: 1 });
    expect(entry).toMatchObject({
      url: `${ghe}/acme/gitops/commit/${HEAD}`,
      date: "2024-01-01T00:00:00Z",
    });
    expect(nock.isDone()).toBe(true);
  });
});
