import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeGitHub } from "../fake-github/index.js";
import { deploymentsState } from "../fake-github/routes/deployments.js";
import { git } from "../helpers/git.js";
import { type ServerProcess, startServerProcess } from "../helpers/server-process.js";
import { callJson, type ProofRepo, startProofRepo } from "./fixture.js";

/**
 * Issue 11's "nothing lost": the audit (one GitHub Deployment per commit) is written after
 * the answer, in the background queue. A real server process
 * - SIGKILLed while its Deployment write is held by the fake GitHub (the commit landed and
 *   was answered, the audit not written) is restarted, and the reconciler creates the
 *   Deployment from the commit's trailers; a second restart creates no second one;
 * - sent SIGTERM while the write is held drains the queue: the Deployment and its status
 *   exist once the process has exited.
 * Waits are bounded only by the proof's generous timeouts, never by a duration asserted.
 */
const DEPLOYMENTS = { method: "POST", path: /^\/repos\/acme\/gitops\/deployments$/ } as const;

describe("the audit survives SIGKILL and SIGTERM", () => {
  let repo: ProofRepo;
  const running: ServerProcess[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const server = await startServerProcess({
      gheHost: repo.gheHost,
      configPath: repo.configPath,
      env: { FAILOVER_RATE_LIMIT: "0", ...env },
    });
    running.push(server);
    return server;
  };
  const deployments = () => deploymentsState({ fake: repo.fake.context });

  beforeAll(async () => {
    repo = await startProofRepo(0);
  }, 60_000);
  afterAll(async () => {
    for (const s of running) await s.kill("SIGKILL");
    await repo?.close();
  });

  it("SIGKILL between the commit and its Deployment: the restarted server writes it, once", {
    timeout: 240_000,
  }, async () => {
    const first = await start();
    let arrived: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    // Held, never carried out: released after the kill, it answers 502 to a closed socket.
    const hold = repo.fake.inject({
      match: DEPLOYMENTS,
      hang: true,
      respond: { status: 502 },
      onTaken: () => arrived(),
    });
    const answer = await callJson(`${first.url}/api/failover/sonarr/promote`, { method: "POST" });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.outcome).toBe("applied");
    const sha = (answer.body.commit as { sha: string }).sha;
    const operation = requestTrailer(repo.fake, sha);
    await held;
    await first.kill("SIGKILL");
    hold.cancel();
    expect(deployments()).toHaveLength(0);

    const second = await start();
    await untilDeployments(1);
    expect(deployments()[0]).toMatchObject({
      sha,
      environment: "failover-sonarr",
      task: "failover:promote",
      payload: { service: "sonarr", operation, action: "promote", trigger: "http" },
    });
    // SIGTERM drains the queue, so the status after the Deployment is written too.
    expect((await second.kill("SIGTERM")).code).toBe(0);
    expect(deployments()[0]?.statuses.map((s) => s.state)).toEqual(["in_progress"]);

    // Another start finds the Deployment by its payload's operation and creates none.
    const listsBefore = deploymentLists(repo.fake);
    const third = await start();
    expect((await third.kill("SIGTERM")).code).toBe(0);
    expect(deploymentLists(repo.fake)).toBe(listsBefore + 1);
    expect(deployments()).toHaveLength(1);
  });

  it("SIGTERM while the Deployment write is held: the queue drains before the exit", {
    timeout: 240_000,
  }, async () => {
    const server = await start({ LOG_LEVEL: "info" });
    let arrived: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    // Held, then carried out once released (after the signal reached the process).
    const hold = repo.fake.inject({ match: DEPLOYMENTS, hang: true, onTaken: () => arrived() });
    const before = deployments().length;
    const answer = await callJson(`${server.url}/api/failover/sonarr/demote`, { method: "POST" });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.outcome).toBe("applied");
    const sha = (answer.body.commit as { sha: string }).sha;
    await held;
    const exited = server.kill("SIGTERM");
    await until(() => server.stdout().includes("finishing background work"));
    hold.cancel();
    expect((await exited).code).toBe(0);
    const written = deployments().slice(before);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      sha,
      payload: { service: "sonarr", operation: requestTrailer(repo.fake, sha), action: "demote" },
    });
    // The status is the write after the Deployment's answer: only a process still running
    // after the signal could make it.
    expect(written[0]?.statuses.map((s) => s.state)).toEqual(["in_progress"]);
  });

  /** Resolves once `deployments()` holds `count`, polling the fake's state (no timed assertion). */
  async function untilDeployments(count: number): Promise<void> {
    await until(() => deployments().length >= count);
  }
});

/** The commit's `Failover-Request` trailer: the operation id its Deployment must carry. */
function requestTrailer(fake: FakeGitHub, sha: string): string {
  const message = git(fake.dir, "log", "-1", "--format=%B", sha);
  const id = /^Failover-Request: (.+)$/m.exec(message)?.[1];
  if (id === undefined) throw new Error(`commit ${sha} has no Failover-Request trailer`);
  return id;
}

function deploymentLists(fake: FakeGitHub): number {
  return fake.requests.filter(
    (r) => r.method === "GET" && r.path === "/repos/acme/gitops/deployments",
  ).length;
}

/** Polls `done` every 50 ms; the test's own timeout bounds it. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 50));
}
