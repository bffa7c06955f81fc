import nock from "nock";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseEnv } from "../../src/config/env.js";
import { GitHubTimeoutError } from "../../src/repo/github/errors.js";
import { type GitHubRequestEvent, onGitHubRequest } from "../../src/repo/github/request-events.js";
import { createTokenBackend } from "../../src/repo/github/token-backend.js";
import { tokenOctokit } from "../../src/repo/github/token-octokit.js";

const API = "https://api.github.com";
const silentLog = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(() => {
  nock.disableNetConnect();
});
afterAll(() => {
  nock.enableNetConnect();
});
afterEach(() => {
  expect(nock.isDone()).toBe(true);
  nock.cleanAll();
});

/**
 * Token mode's client (@octokit/core, no Probot) keeps what Probot's Octokit gave it: the
 * retry plugin (5xx retried, 4xx not), the call timeout, write pacing and the request
 * observer, in the same order (octokit-client.ts).
 */
describe("token mode's Octokit", () => {
  const client = (options: Parameters<typeof tokenOctokit>[0] = {}, sleeps: number[] = []) => {
    const Octokit = tokenOctokit({
      ...options,
      pacing: {
        minWriteIntervalMs: 0,
        ...options.pacing,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    });
    // No real wait between retries (the plugin's default is 1 s, 4 s, ...).
    return new Octokit({ auth: "ghp_test", log: silentLog, retry: { retryAfterBaseValue: 0 } });
  };

  it("retries a 5xx as often as GITHUB_RETRIES says; the observer sees one call", async () => {
    const events: GitHubRequestEvent[] = [];
    const detach = onGitHubRequest((e) => events.push(e));
    try {
      nock(API).get("/repos/o/r").times(2).reply(502, { message: "bad gateway" });
      nock(API)
        .get("/repos/o/r")
        .matchHeader("authorization", "token ghp_test")
        .reply(200, { default_branch: "main" });
      const { data } = await client({ retries: 2 }).request("GET /repos/{owner}/{repo}", {
        owner: "o",
        repo: "r",
      });
      expect(data).toEqual({ default_branch: "main" });
      expect(events).toEqual([{ method: "GET", status: "200", failed: false }]);
    } finally {
      detach();
    }
  });

  it("gives up after GITHUB_RETRIES, and never retries a 4xx", async () => {
    nock(API).get("/repos/o/r").times(2).reply(500, { message: "boom" });
    await expect(
      client({ retries: 1 }).request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" }),
    ).rejects.toMatchObject({ status: 500 });
    nock(API).get("/repos/o/missing").once().reply(404, { message: "Not Found" });
    await expect(
      client({ retries: 3 }).request("GET /repos/{owner}/{repo}", { owner: "o", repo: "missing" }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it("spaces writes, not reads, and waits as a secondary rate limit's retry-after asks", async () => {
    const sleeps: number[] = [];
    const octokit = client({ pacing: { minWriteIntervalMs: 1000 } }, sleeps);
    nock(API)
      .post("/graphql", (b) => /^query/.test(b.query))
      .reply(200, { data: { ok: 1 } });
    nock(API).post("/repos/o/r/issues/1/comments").times(2).reply(201, { id: 1 });
    await octokit.graphql("query { viewer { login } }");
    const comment = { owner: "o", repo: "r", issue_number: 1, body: "a" };
    await octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", comment);
    expect(sleeps).toEqual([]);
    await octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", comment);
    expect(sleeps).toHaveLength(1);

    nock(API)
      .get("/repos/o/r")
      .reply(403, { message: "You have exceeded a secondary rate limit" }, { "retry-after": "3" });
    nock(API).get("/repos/o/r").reply(200, { default_branch: "main" });
    await octokit.request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" });
    expect(sleeps.at(-1)).toBe(3000);
  });

  it("ends a call that does not answer within GITHUB_REQUEST_TIMEOUT_MS", async () => {
    // The answer would come a minute later: the 50 ms limit ends the call whatever the load.
    nock(API).get("/repos/o/r").delay(60_000).reply(200, {});
    await expect(
      client({ requestTimeoutMs: 50, retries: 0 }).request("GET /repos/{owner}/{repo}", {
        owner: "o",
        repo: "r",
      }),
    ).rejects.toBeInstanceOf(GitHubTimeoutError);
    nock.abortPendingRequests();
  });
});

describe("token mode's backend", () => {
  it("calls GitHub Enterprise's REST and GraphQL roots with the token", async () => {
    const env = parseEnv({
      GITOPS_REPOSITORY: "acme/gitops",
      GITHUB_TOKEN: "ghp_enterprise",
      GHE_HOST: "ghe.example.com",
      GITHUB_RETRIES: "0",
    });
    const backend = createTokenBackend(env, pino({ level: "silent" }));
    expect(backend).toMatchObject({
      target: { owner: "acme", repo: "gitops" },
      serverUrl: "https://ghe.example.com",
      receivesWebhooks: false,
    });
    const ghe = nock("https://ghe.example.com", {
      reqheaders: { authorization: "token ghp_enterprise" },
    });
    ghe.get("/api/v3/repos/acme/gitops").reply(200, { name: "gitops" });
    ghe.post("/api/graphql").reply(200, { data: { repository: { name: "gitops" } } });
    await expect(
      backend.client.request("GET /repos/{owner}/{repo}", { ...backend.target }),
    ).resolves.toMatchObject({ data: { name: "gitops" } });
    await expect(
      backend.client.graphql('query { repository(owner: "acme", name: "gitops") { name } }'),
    ).resolves.toEqual({ repository: { name: "gitops" } });
  });
});
