import nock from "nock";
import { pino } from "pino";
import { Probot } from "probot";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { failoverOctokit } from "../../src/repo/github/octokit-client.js";

const API = "https://api.github.com";

// No network here; the next file in this worker may use loopback servers again.
beforeAll(() => {
  nock.disableNetConnect();
});
afterAll(() => {
  nock.enableNetConnect();
});

describe("GitHub pacing on the wire", () => {
  afterEach(() => {
    expect(nock.isDone()).toBe(true);
    nock.cleanAll();
  });

  const client = (sleeps: number[]) => {
    const Octokit = failoverOctokit({
      pacing: {
        minWriteIntervalMs: 1000,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    });
    return new Octokit({ auth: "ghs_test", retry: { enabled: false } });
  };

  it("a read then a write go out back to back: queries are not spaced", async () => {
    const sleeps: number[] = [];
    const octokit = client(sleeps);
    nock(API)
      .post("/graphql", (b) => /^query/.test(b.query))
      .reply(200, { data: { ok: 1 } });
    nock(API)
      .post("/graphql", (b) => /^mutation/.test(b.query))
      .reply(200, { data: { ok: 2 } });
    await octokit.graphql("query { viewer { login } }");
    await octokit.graphql("mutation { x }");
    expect(sleeps).toEqual([]);
  });

  it("successive writes are spaced by GitHub's one second", async () => {
    const sleeps: number[] = [];
    const octokit = client(sleeps);
    nock(API).post("/repos/o/r/issues/1/comments").times(2).reply(201, { id: 1 });
    const started = performance.now();
    await octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      owner: "o",
      repo: "r",
      issue_number: 1,
      body: "a",
    });
    await octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      owner: "o",
      repo: "r",
      issue_number: 1,
      body: "b",
    });
    // The wait is the second less what has passed since the first write: at least the second
    // less this whole exchange (measured, so a busy machine is no failure), at most the second.
    const elapsed = performance.now() - started;
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(0);
    expect(sleeps[0]).toBeGreaterThanOrEqual(1000 - Math.ceil(elapsed));
    expect(sleeps[0]).toBeLessThanOrEqual(1000);
  });

  it("waits as long as a secondary rate limit's retry-after asks, then retries", async () => {
    const sleeps: number[] = [];
    const octokit = client(sleeps);
    nock(API)
      .get("/repos/o/r")
      .reply(403, { message: "You have exceeded a secondary rate limit" }, { "retry-after": "3" });
    nock(API).get("/repos/o/r").reply(200, { default_branch: "main" });
    const { data } = await octokit.request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" });
    expect(data).toEqual({ default_branch: "main" });
    expect(sleeps).toEqual([3000]);
  });

  it("fails instead of stalling when retry-after is longer than a failover can wait", async () => {
    const sleeps: number[] = [];
    const octokit = client(sleeps);
    nock(API).get("/repos/o/r").reply(429, { message: "slow down" }, { "retry-after": "3600" });
    await expect(
      octokit.request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" }),
    ).rejects.toMatchObject({ status: 429 });
    expect(sleeps).toEqual([]);
  });
});

describe("through Probot", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    expect(nock.isDone()).toBe(true);
    nock.cleanAll();
  });

  it("Probot's throttling stays off: writes never wait on a timer when pacing is 0", async () => {
    const probot = new Probot({
      githubToken: "ghs_test",
      Octokit: failoverOctokit({ pacing: { minWriteIntervalMs: 0 } }),
      log: pino({ level: "silent" }),
    });
    const octokit = await probot.auth();
    nock(API).post("/repos/o/r/issues/1/comments").times(3).reply(201, { id: 1 });
    // The throttling plugin would space these writes with ~1 s timers (Bottleneck minTime).
    const timers = vi.spyOn(globalThis, "setTimeout");
    for (const body of ["a", "b", "c"]) {
      await octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
        owner: "o",
        repo: "r",
        issue_number: 1,
        body,
      });
    }
    const longWaits = timers.mock.calls.filter(([, ms]) => typeof ms === "number" && ms >= 500);
    expect(longWaits).toEqual([]);
  });
});
