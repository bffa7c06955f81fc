import { execFileSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  assertRoutesExistOnGitHub,
  DEFAULT_ROUTES,
  type FakeGitHub,
  type RestRoute,
  requireRepo,
  startFakeGitHub,
} from "./index.js";

const AUTH = { authorization: "token test" };

async function call(
  fake: FakeGitHub,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${fake.url}${path}`, {
    method: init.method ?? "GET",
    headers: { "content-type": "application/json", ...(init.headers ?? AUTH) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

const graphql = (fake: FakeGitHub, query: string, variables: Record<string, unknown> = {}) =>
  call(fake, "/graphql", { method: "POST", body: { query, variables } });

describe("fake GitHub: routes exist on GitHub", () => {
  it("every default REST route is an operation in @octokit/openapi's api.github.com", () => {
    expect(DEFAULT_ROUTES.length).toBeGreaterThan(0);
    expect(() => assertRoutesExistOnGitHub(DEFAULT_ROUTES)).not.toThrow();
  });

  it("refuses invented routes, also at startup", async () => {
    const invented: RestRoute = {
      method: "GET",
      template: "/repos/{owner}/{repo}/failover",
      handler: () => ({ status: 200 }),
    };
    const wrongMethod: RestRoute = {
      method: "DELETE",
      template: "/repos/{owner}/{repo}/git/trees/{tree_sha}",
      handler: () => ({ status: 204 }),
    };
    expect(() => assertRoutesExistOnGitHub([invented, wrongMethod])).toThrow(
      /GET \/repos\/\{owner\}\/\{repo\}\/failover, DELETE \/repos\/\{owner\}\/\{repo\}\/git\/trees\/\{tree_sha\}/,
    );
    await expect(startFakeGitHub({ files: {}, routes: [invented] })).rejects.toThrow(/failover/);
  });
});

describe("fake GitHub: HTTP behaviour", () => {
  let fake: FakeGitHub;

  beforeEach(async () => {
    fake = await startFakeGitHub({
      files: {
        "a.yaml": "a: 1\n",
        "big.txt": `${"x".repeat(600_000)}`,
        "bin.dat": "\0\u0001\u0002",
      },
    });
  });

  afterEach(async () => {
    await fake.close();
  });

  it("answers 401 without an authorization header, except under /app", async () => {
    const rest = await call(fake, "/repos/acme/gitops", { headers: {} });
    expect(rest.status).toBe(401);
    expect(rest.body).toMatchObject({ message: "Requires authentication" });
    const gql = await call(fake, "/graphql", {
      method: "POST",
      body: { query: "{ viewer { login } }" },
      headers: {},
    });
    expect(gql.status).toBe(401);
    const app = await call(fake, "/app/installations", { headers: {} });
    expect(app.status).toBe(404);
    expect(fake.requests.map((r) => [r.path, r.status])).toEqual([
      ["/repos/acme/gitops", 401],
      ["/graphql", 401],
      ["/app/installations", 404],
    ]);
  });

  it("answers unknown routes and repositories with GitHub's 404 body, and logs them", async () => {
    for (const path of ["/repos/acme/gitops/no/such/route", "/repos/acme/other", "/nothing"]) {
      const answer = await call(fake, path);
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({
        message: "Not Found",
        documentation_url: expect.stringContaining("docs.github.com"),
      });
    }
    expect(fake.requests).toHaveLength(3);
  });

  it("serves refs with the ref encoded or not, trees and commits from the real repository", async () => {
    const head = await fake.head();
    for (const ref of ["heads/main", "heads%2Fmain"]) {
      const answer = await call(fake, `/repos/acme/gitops/git/ref/${ref}`);
      expect(answer).toMatchObject({
        status: 200,
        body: { ref: "refs/heads/main", object: { type: "commit", sha: head } },
      });
    }
    expect((await call(fake, "/repos/acme/gitops/git/ref/heads/nope")).status).toBe(404);
    const tree = await call(fake, "/repos/acme/gitops/git/trees/main?recursive=1");
    expect(tree.body).toMatchObject({
      truncated: false,
      tree: expect.arrayContaining([
        expect.objectContaining({ path: "a.yaml", type: "blob", size: 5 }),
      ]),
    });
    const commits = await call(fake, "/repos/acme/gitops/commits?sha=main&per_page=5");
    expect(commits.body).toMatchObject([
      {
        sha: head,
        commit: { message: "Initial commit" },
        html_url: `${fake.webUrl}/acme/gitops/commit/${head}`,
      },
    ]);
    expect((await call(fake, "/repos/acme/gitops/commits?sha=nope")).status).toBe(404);
  });

  it("answers a ref with an ETag, and 304 with no body to a matching If-None-Match", async () => {
    const path = "/repos/acme/gitops/git/ref/heads/main";
    const first = await fetch(`${fake.url}${path}`, { headers: AUTH });
    const etag = first.headers.get("etag") ?? "";
    expect(first.status).toBe(200);
    expect(etag).toMatch(/^W\/"[0-9a-f]{32}"$/);
    const again = (headers: Record<string, string>) =>
      fetch(`${fake.url}${path}`, { headers: { ...AUTH, ...headers } });
    for (const tag of [etag, etag.slice(2), `"other", ${etag}`, "*"]) {
      const notModified = await again({ "if-none-match": tag });
      expect(notModified.status).toBe(304);
      expect(notModified.headers.get("etag")).toBe(etag);
      expect(await notModified.text()).toBe("");
    }
    // Another token has other ETags (GitHub's are per token).
    expect((await again({ authorization: "token other", "if-none-match": etag })).status).toBe(200);
    // The ref moves: the old ETag no longer matches.
    await fake.repo.commit({
      branch: "main",
      expectedHead: await fake.head(),
      message: "moved",
      changes: [{ path: "b.yaml", text: "b: 1\n" }],
    });
    const moved = await again({ "if-none-match": etag });
    expect(moved.status).toBe(200);
    expect(moved.headers.get("etag")).not.toBe(etag);
    expect(((await moved.json()) as { object: { sha: string } }).object.sha).toBe(
      await fake.head(),
    );
    expect(fake.requests.map((r) => r.status)).toEqual([200, 304, 304, 304, 304, 200, 200]);
    expect(fake.requests[1]?.headers["if-none-match"]).toBe(etag);
  });

  it("serves GraphQL at /graphql, /api/graphql and /api/v3/graphql", async () => {
    const query = '{ repository(owner: "acme", name: "gitops") { defaultBranchRef { name } } }';
    for (const url of [
      `${fake.webUrl}/graphql`,
      `${fake.webUrl}/api/graphql`,
      `${fake.url}/graphql`,
    ]) {
      const response = await fetch(url, {
        method: "POST",
        headers: { ...AUTH, "content-type": "application/json" },
        body: JSON.stringify({ query }),
      });
      expect(await response.json()).toEqual({
        data: { repository: { defaultBranchRef: { name: "main" } } },
      });
    }
    expect(fake.graphqlRequests).toHaveLength(3);
  });

  it("answers a stale createCommitOnBranch like GitHub: 200, STALE_DATA, commit not made", async () => {
    const head = await fake.head();
    const mutation =
      "mutation Write($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }";
    const answer = await graphql(fake, mutation, {
      input: {
        branch: { repositoryNameWithOwner: "acme/gitops", branchName: "main" },
        expectedHeadOid: "0".repeat(40),
        message: { headline: "stale" },
        fileChanges: {
          additions: [{ path: "a.yaml", contents: Buffer.from("a: 2\n").toString("base64") }],
        },
      },
    });
    expect(answer).toEqual({
      status: 200,
      body: {
        data: { createCommitOnBranch: null },
        errors: [
          {
            type: "STALE_DATA",
            path: ["createCommitOnBranch"],
            locations: [expect.any(Object)],
            message: `Expected branch to point to "${"0".repeat(40)}" but it did not.  Pull and try again.`,
          },
        ],
      },
    });
    expect(await fake.head()).toBe(head);
    expect(fake.requests[0]).toMatchObject({
      operationName: "Write",
      operationType: "mutation",
      rootFields: ["createCommitOnBranch"],
    });
  });

  it("a branch deleted while createCommitOnBranch runs is NOT_FOUND, as GitHub answers it", async () => {
    // GitHub resolves the branch and commits in one step; the fake takes two. A concurrent
    // merge that deletes its PR branch in between must look like a branch that is not there,
    // which the app takes as a lost race, not like an upstream failure.
    execFileSync("git", ["-C", fake.dir, "branch", "gone", "main"]);
    const head = await fake.head();
    const resolve = fake.store.resolveRef.bind(fake.store);
    fake.store.resolveRef = async (name) => {
      const found = await resolve(name);
      if (name === "refs/heads/gone") execFileSync("git", ["-C", fake.dir, "branch", "-D", "gone"]);
      return found;
    };
    const mutation =
      "mutation Write($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }";
    const answer = await graphql(fake, mutation, {
      input: {
        branch: { repositoryNameWithOwner: "acme/gitops", branchName: "gone" },
        expectedHeadOid: head,
        message: { headline: "on a vanishing branch" },
        fileChanges: {
          additions: [{ path: "a.yaml", contents: Buffer.from("a: 2\n").toString("base64") }],
        },
      },
    });
    expect(answer).toMatchObject({
      status: 200,
      body: {
        data: { createCommitOnBranch: null },
        errors: [
          {
            type: "NOT_FOUND",
            message: "Could not resolve to a Ref with the name 'refs/heads/gone'.",
          },
        ],
      },
    });
    expect(await fake.head()).toBe(head);
  });

  it("emulates Blob.text truncation at 512,000 bytes and binary detection", async () => {
    const answer = await graphql(
      fake,
      `query($q: String!) { repository(owner: "acme", name: "gitops") { ref(qualifiedName: $q) { target { ... on Commit {
        big: file(path: "big.txt") { size object { ... on Blob { byteSize isTruncated isBinary text } } }
        bin: file(path: "bin.dat") { object { ... on Blob { isBinary text } } }
        dir: file(path: "nope") { name }
      } } } } }`,
      { q: "refs/heads/main" },
    );
    const target = (
      answer.body as { data: { repository: { ref: { target: Record<string, unknown> } } } }
    ).data.repository.ref.target as {
      big: {
        size: number;
        object: { byteSize: number; isTruncated: boolean; isBinary: boolean; text: string };
      };
      bin: { object: { isBinary: boolean; text: string | null } };
      dir: null;
    };
    expect(target.big.size).toBe(600_000);
    expect(target.big.object).toMatchObject({
      byteSize: 600_000,
      isTruncated: true,
      isBinary: false,
    });
    expect(target.big.object.text).toHaveLength(512_000);
    expect(target.bin.object).toEqual({ isBinary: true, text: null });
    expect(target.dir).toBeNull();
  });

  it("reports valid but unimplemented fields by name, and unknown repositories as NOT_FOUND", async () => {
    const unimplemented = await graphql(
      fake,
      '{ repository(owner: "acme", name: "gitops") { stargazerCount } }',
    );
    expect(unimplemented.body).toMatchObject({
      errors: [{ message: "fake GitHub does not implement Repository.stargazerCount" }],
    });
    const missing = await graphql(fake, '{ repository(owner: "acme", name: "nope") { id } }');
    expect(missing.body).toMatchObject({
      data: { repository: null },
      errors: [{ type: "NOT_FOUND", path: ["repository"] }],
    });
  });

  it("injects faults by method, path and mutation, a number of times, with delays", async () => {
    const fault = fake.inject({
      match: { method: "GET", path: /^\/repos\/acme\/gitops$/ },
      times: 2,
      respond: { status: 503, headers: { "retry-after": "1" } },
    });
    expect((await call(fake, "/repos/acme/gitops")).status).toBe(503);
    expect(fault.remaining).toBe(1);
    expect((await call(fake, "/repos/acme/gitops/git/ref/heads/main")).status).toBe(200);
    expect((await call(fake, "/repos/acme/gitops")).status).toBe(503);
    expect((await call(fake, "/repos/acme/gitops")).status).toBe(200);

    const mutationOnly = fake.inject({
      match: { graphqlMutation: "createCommitOnBranch" },
      respond: { status: 500 },
    });
    expect(
      (await graphql(fake, '{ repository(owner: "acme", name: "gitops") { id } }')).status,
    ).toBe(200);
    expect(mutationOnly.remaining).toBe(1);
    mutationOnly.cancel();

    fake.inject({ match: { path: /^\/repos\/acme\/gitops$/ }, delayMs: 150 });
    fake.latencyMs = 50;
    const started = Date.now();
    expect((await call(fake, "/repos/acme/gitops")).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it("lets a test add routes with per-fake state", async () => {
    const counted: RestRoute = {
      method: "GET",
      template: "/repos/{owner}/{repo}/branches/{branch}",
      handler(request) {
        requireRepo(request);
        const hits = request.fake.state("branch-hits", () => ({ n: 0 }));
        hits.n += 1;
        return { status: 200, body: { name: request.params.branch, hits: hits.n } };
      },
    };
    const extended = await startFakeGitHub({ files: { "a.yaml": "a\n" }, routes: [counted] });
    try {
      await call(extended, "/repos/acme/gitops/branches/main");
      expect((await call(extended, "/repos/acme/gitops/branches/main")).body).toEqual({
        name: "main",
        hits: 2,
      });
    } finally {
      await extended.close();
    }
  });
});
