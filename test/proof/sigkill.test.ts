import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Action } from "../../src/domain/service.js";
import { type ServerProcess, startServerProcess } from "../helpers/server-process.js";
import {
  callJson,
  failoverCommits,
  history,
  isLinear,
  type ProofRepo,
  seededRandom,
  sideOf,
  startProofRepo,
} from "./fixture.js";

/**
 * SIGKILL the server process at a seeded random moment (0-300 ms) while a batch of promote
 * and demote requests is in flight, restart it, and check that
 * - the repository is consistent: history linear, every manifest byte for byte on primary or
 *   on backup (never half-written: a commit is one createCommitOnBranch, all or nothing);
 * - retrying each request converges: 200, the requested side, and at most one failover
 *   commit per service in the round (the batch sent every request twice).
 */
const SEED = 20_240_611;
const ROUNDS = 10;
const COPIES = 2;

describe("SIGKILL during failovers", () => {
  let repo: ProofRepo;
  let server: ServerProcess | undefined;
  /** A fresh process, warmed (JIT, default branch, a read of every manifest) by status calls. */
  const start = async () => {
    const started = await startServerProcess({
      gheHost: repo.gheHost,
      configPath: repo.configPath,
      env: { FAILOVER_MAX_ATTEMPTS: "20", FAILOVER_RATE_LIMIT: "0" },
    });
    for (let i = 0; i < 2; i++) {
      await Promise.all(
        repo.services.map((s) => callJson(`${started.url}/api/failover/${s.name}/status`)),
      );
    }
    return started;
  };

  beforeAll(async () => {
    repo = await startProofRepo(2);
    // GitHub takes a while per call: a kill finds requests between the read and the write.
    repo.fake.latencyMs = 10;
  }, 60_000);

  afterAll(async () => {
    await server?.kill("SIGKILL");
    await repo?.close();
  });

  it(`${ROUNDS} rounds: kill, restart, consistent, retries converge`, {
    timeout: 150_000,
  }, async () => {
    const random = seededRandom(SEED);
    const rounds: string[] = [];
    server = await start();
    for (let round = 1; round <= ROUNDS; round++) {
      const killAfterMs = Math.floor(random() * 301);
      // Odd rounds count from the moment the batch is sent (kills land among the reads), even
      // rounds from the first write reaching GitHub (kills land among the writes and the
      // answers): a batch takes seconds on the fake, so 0-300 ms from the start alone would
      // never find a write in flight.
      const anchor = round % 2 === 1 ? "sent" : "first write";
      const wanted = new Map<string, Action>(
        repo.services.map((s) => [s.name, random() < 0.5 ? "promote" : "demote"]),
      );
      const before = history(repo.fake.dir).length;
      const live = server;
      repo.fake.resetLog();
      const batch = [...wanted].flatMap(([name, action]) =>
        Array.from({ length: COPIES }, () =>
          callJson(`${live.url}/api/failover/${name}/${action}`, { method: "POST" }).then(
            (a) => `${a.status}`,
            () => "cut",
          ),
        ),
      );
      if (anchor === "first write") await untilFirstWrite(repo);
      await sleep(killAfterMs);
      await live.kill("SIGKILL");
      const answers = await Promise.all(batch);
      // The fake finishes what it had received (as GitHub would); then look at Git.
      await untilFakeIdle(repo);
      const afterKill = history(repo.fake.dir);
      expect(isLinear(afterKill), `round ${round}: linear after the kill`).toBe(true);
      for (const s of repo.services) {
        expect(sideOf(repo.fake.dir, s), `round ${round}: ${s.name} after the kill`).not.toBe(
          "corrupt",
        );
      }
      const landed = afterKill.length - before;
      const writes = repo.fake.graphqlRequests.filter((r) => r.operationType === "mutation");

      server = await start();
      const retried = await Promise.all(
        [...wanted].map(async ([name, action]) => {
          const answer = await callJson(`${server?.url}/api/failover/${name}/${action}`, {
            method: "POST",
          });
          return { name, action, answer };
        }),
      );
      const after = history(repo.fake.dir);
      expect(isLinear(after)).toBe(true);
      const roundCommits = after.slice(before);
      for (const { name, action, answer } of retried) {
        expect(answer.status, `round ${round}: retry ${name} ${action}: ${answer.text}`).toBe(200);
        expect(["applied", "no_op"]).toContain(answer.body.outcome);
        const spec = repo.services.find((s) => s.name === name);
        if (spec === undefined) throw new Error(name);
        expect(sideOf(repo.fake.dir, spec)).toBe(action === "promote" ? "backup" : "primary");
        expect(
          failoverCommits(roundCommits, name).length,
          `round ${round}: ${name} commits`,
        ).toBeLessThanOrEqual(1);
      }
      const count = (v: string) => answers.filter((a) => a === v).length;
      rounds.push(
        `  round ${String(round).padStart(2)}: kill ${String(killAfterMs).padStart(3)} ms after ${anchor.padEnd(11)}; ` +
          `${answers.length} requests: ${count("200")} answered, ${count("cut")} cut; ` +
          `${writes.length} writes sent, ${landed} commits landed; retries: ${retried
            .map((r) => String(r.answer.body.outcome))
            .join(",")}; ${roundCommits.length} commits in the round`,
      );
    }
    console.info(`SIGKILL, seed ${SEED}:\n${rounds.join("\n")}`);
    const stderr = server?.stderr() ?? "";
    expect(stderr, "the restarted server logged no errors").not.toMatch(/"level":(50|60)/);
  });
});

async function untilFirstWrite(repo: ProofRepo): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (repo.fake.graphqlRequests.some((r) => r.operationType === "mutation")) return;
    await sleep(5);
  }
  throw new Error("no write reached the fake GitHub in 5 s");
}

/** Until every request the fake received has been answered (bounded). */
async function untilFakeIdle(repo: ProofRepo): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (repo.fake.requests.every((r) => r.status !== undefined)) return;
    await sleep(10);
  }
  throw new Error("the fake GitHub kept working on requests for 5 s");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
