import { type AddressInfo, createServer } from "node:net";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { FailoverError } from "../../src/domain/errors.js";
import { GitHubCheck } from "../../src/observability/github-check.js";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.js";
import { appSettings } from "../fake-github/routes/app.js";
import { demoRepoFiles } from "../helpers/files.js";
import { freePort, type ServerProcess, startServerProcess } from "../helpers/server-process.js";
import { testKeyPair } from "../helpers/test-keys.js";

/**
 * `GET /api/ready` in GitHub mode checks the credentials and the repository (at start and
 * every GITHUB_CHECK_INTERVAL_MS): the real `serve` process against the fake GitHub, which
 * verifies the App's JWT with the App's public key.
 */
const app = testKeyPair();
const bogus = testKeyPair("bogus");

let fake: FakeGitHub;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  fake = await startFakeGitHub({ files: demoRepoFiles(), owner: "acme", repo: "gitops" });
  appSettings({ fake: fake.context } as Parameters<typeof appSettings>[0]).publicKeyPem =
    app.publicKey;
});
// Each server stopped after its test: left running, they went on checking GitHub (one every
// 200 ms) through the rest of the file.
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.kill()));
});
afterAll(async () => {
  await fake?.close();
});

async function serveAsApp(
  privateKey: string,
  env: Record<string, string> = {},
  ports?: () => Promise<number>,
) {
  const server = await startServerProcess({
    ...(ports === undefined ? {} : { ports }),
    gheHost: new URL(fake.webUrl).host,
    configPath: DEMO_CONFIG,
    env: { GITHUB_TOKEN: "", APP_ID: "1", PRIVATE_KEY: privateKey, GITHUB_RETRIES: "0", ...env },
  });
  servers.push(server);
  return server;
}

async function ready(server: ServerProcess) {
  const res = await fetch(`${server.url}/api/ready`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Polls until `ok`; bounded just under the suite's test timeout, so a busy machine only waits longer. */
async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 100_000;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("readiness in GitHub mode (the serve process against the fake GitHub)", () => {
  it("a valid App key: 200 ready, after an installation token and GET /repos/acme/gitops", async () => {
    // The first port handed out is already bound: the helper's start on another port (what
    // happens when some other process binds a port between freePort and the child's listen).
    // Its connections closed at once: the health check sent there fails fast, and close()
    // (which waits for open connections) returns.
    const taken = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const takenPort = (taken.address() as AddressInfo).port;
    const handedOut: number[] = [];
    const server = await serveAsApp(app.privateKey, {}, async () => {
      const port = handedOut.length === 0 ? takenPort : await freePort();
      handedOut.push(port);
      return port;
    });
    await new Promise((resolve) => taken.close(resolve));
    expect(handedOut).toHaveLength(2);
    expect(server.port).toBe(handedOut[1]);
    const { status, body } = await eventually(
      () => ready(server),
      (r) => r.status === 200,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: "ready",
      backend: "github",
      github: { repository: "acme/gitops", result: "ok", checkedAt: expect.any(String) },
    });
    const calls = fake.requests.map((r) => `${r.method} ${r.path} ${String(r.status)}`);
    expect(calls).toEqual(
      expect.arrayContaining([
        "GET /repos/acme/gitops/installation 200",
        "POST /app/installations/4242/access_tokens 201",
        "GET /repos/acme/gitops 200",
      ]),
    );
  });

  it("a bogus key: 503 not ready with the reason; the process stays alive", async () => {
    const server = await serveAsApp(bogus.privateKey);
    const { status, body } = await ready(server);
    expect(status).toBe(503);
    expect(body).toMatchObject({
      status: "not_ready",
      backend: "github",
      github: { result: "rejected" },
    });
    expect(String(body.reason)).toMatch(/^GitHub: /);
    expect(String(body.reason)).toContain("HTTP 401");
    expect(String(body.reason)).toContain("A JSON web token could not be decoded");
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });

  it("not installed on the repository: 503, then ready once it is (checked again while failing)", async () => {
    const notInstalled = fake.inject({
      match: { method: "GET", path: /^\/repos\/acme\/gitops\/installation$/ },
      respond: { status: 404 },
      times: Number.POSITIVE_INFINITY,
    });
    const server = await serveAsApp(app.privateKey, { GITHUB_CHECK_INTERVAL_MS: "200" });
    const before = await ready(server);
    expect(before.status).toBe(503);
    expect(String(before.body.reason)).toContain("the GitHub App is not installed on acme/gitops");
    notInstalled.cancel();
    const after = await eventually(
      () => ready(server),
      (r) => r.status === 200,
    );
    expect(after).toMatchObject({ status: 200, body: { github: { result: "ok" } } });
  });
});

describe("GitHubCheck: what makes a pod not ready", () => {
  const logger = pino({ level: "silent" });
  const status = (code: number, message: string) =>
    Object.assign(new Error(message), { status: code });

  it("pending until the first check; ignored by readiness until started", async () => {
    let release: () => void = () => undefined;
    const check = new GitHubCheck({
      probe: () => new Promise<void>((r) => (release = r)),
      repository: "acme/gitops",
      intervalMs: 0,
      logger,
    });
    expect(check.started).toBe(false);
    check.start();
    expect(check.readiness()).toMatchObject({
      ok: false,
      reason: "checking the GitHub credentials",
    });
    release();
    await check.settled(1000);
    expect(check.readiness()).toMatchObject({ ok: true, body: { result: "ok" } });
    check.stop();
  });

  it("rejections (401, 404, 403, config_invalid) are not ready; a rate limit is transient", async () => {
    const cases: [unknown, "rejected" | "unreachable"][] = [
      [status(401, "Bad credentials"), "rejected"],
      [status(404, "Not Found"), "rejected"],
      [status(403, "Resource not accessible by integration"), "rejected"],
      [new FailoverError("config_invalid", "the GitHub App is not installed"), "rejected"],
      [status(403, "API rate limit exceeded"), "unreachable"],
      [status(502, "Server Error"), "unreachable"],
      [
        Object.assign(new Error("fetch failed"), { cause: new Error("ECONNREFUSED") }),
        "unreachable",
      ],
    ];
    for (const [error, result] of cases) {
      const check = new GitHubCheck({
        probe: () => Promise.reject(error),
        repository: "acme/gitops",
        intervalMs: 0,
        logger,
      });
      check.start();
      await check.settled(1000);
      // Never passed: not ready either way.
      expect(check.readiness(), String(error)).toMatchObject({ ok: false, body: { result } });
      check.stop();
    }
  });

  it("after a success, a transient failure keeps it ready with the error; a rejection does not", async () => {
    let next: () => Promise<unknown> = () => Promise.resolve();
    const check = new GitHubCheck({
      probe: () => next(),
      repository: "acme/gitops",
      intervalMs: 0,
      logger,
    });
    check.start();
    await check.settled(1000);
    next = () => Promise.reject(status(503, "Service Unavailable"));
    await check.checkNow();
    expect(check.readiness()).toMatchObject({
      ok: true,
      body: {
        result: "unreachable",
        reason: "Service Unavailable",
        lastSuccessAt: expect.any(String),
      },
    });
    next = () => Promise.reject(status(401, "Bad credentials"));
    await check.checkNow();
    expect(check.readiness()).toMatchObject({ ok: false, reason: "GitHub: Bad credentials" });
    check.stop();
  });

  it("a check that does not answer in time is transient", async () => {
    const check = new GitHubCheck({
      probe: () => new Promise(() => undefined),
      repository: "acme/gitops",
      intervalMs: 0,
      timeoutMs: 50,
      logger,
    });
    check.start();
    await check.settled(1000);
    expect(check.readiness()).toMatchObject({
      ok: false,
      body: { result: "unreachable", reason: "no answer within 50 ms" },
    });
    check.stop();
  });
});
