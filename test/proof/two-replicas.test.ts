import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentsState } from "../fake-github/routes/deployments.js";
import { git } from "../helpers/git.js";
import { type ServerProcess, startServerProcess } from "../helpers/server-process.js";
import {
  callJson,
  failoverCommits,
  history,
  isLinear,
  type ProofRepo,
  sideOf,
  startProofRepo,
} from "./fixture.js";

/**
 * The HA deployment: two replicas of the real server, each its own OS process, on one
 * GitHub. They share nothing but the repository, so every guarantee below comes from the
 * compare-and-swap on the branch head (createCommitOnBranch's expectedHeadOid).
 *
 * FAILOVER_MAX_ATTEMPTS=20 (the maximum the environment allows): a request loses a
 * compare-and-swap only when another commit landed between its read and its write, and those
 * windows are disjoint for one request, so it needs at most 1 + (commits others can land)
 * attempts. (a) one commit can land, so 2 suffice; (b) 19 other services commit once each, so
 * 20 suffice: no request can end in 409, however the race plays out.
 */
const GENERATED = 20;

describe("two server processes on one GitHub", () => {
  let repo: ProofRepo;
  let replicas: ServerProcess[] = [];

  beforeAll(async () => {
    repo = await startProofRepo(GENERATED);
    // Every call takes a little while, as GitHub's do: the requests overlap for real.
    repo.fake.latencyMs = 5;
    // No per-client POST limit: every request here comes from 127.0.0.1.
    const env = { FAILOVER_MAX_ATTEMPTS: "20", FAILOVER_RATE_LIMIT: "0" };
    replicas = await Promise.all([
      startServerProcess({ gheHost: repo.gheHost, configPath: repo.configPath, env }),
      startServerProcess({ gheHost: repo.gheHost, configPath: repo.configPath, env }),
    ]);
    // Warm both (installation/token/default branch/manifest search), so the race is the failover.
    for (const r of replicas) {
      expect((await callJson(`${r.url}/api/failover/sonarr/status`)).status).toBe(200);
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.kill("SIGTERM")));
    await repo?.close();
  });

  it("(a) 50 concurrent promotes of sonarr over both replicas: one commit, every answer 200 and consistent", async () => {
    const before = history(repo.fake.dir);
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        callJson(`${replicas[i % 2]?.url}/api/failover/sonarr/promote`, { method: "POST" }),
      ),
    );
    const wallMs = performance.now() - started;
    const after = history(repo.fake.dir);
    const added = after.slice(before.length);

    const outcomes = answers.map((a) => `${a.status} ${String(a.body.outcome ?? a.text)}`);
    const applied = answers.filter((a) => a.body.outcome === "applied");
    const counts = countBy(outcomes);
    console.info(
      `two replicas, 50 x promote sonarr: ${JSON.stringify(counts)}; new commits ${added.length}; wall ${wallMs.toFixed(0)} ms`,
    );

    // Safety: one commit, linear history, the file exactly on backup.
    expect(added).toHaveLength(1);
    expect(failoverCommits(added, "sonarr")).toHaveLength(1);
    expect(isLinear(after)).toBe(true);
    const sonarr = repo.services.find((s) => s.name === "sonarr");
    if (sonarr === undefined) throw new Error("no sonarr");
    expect(sideOf(repo.fake.dir, sonarr)).toBe("backup");
    // Every answer 200, applied or no_op, all agreeing on the target; no 409.
    for (const a of answers) {
      expect(a.status, a.text).toBe(200);
      expect(["applied", "no_op"]).toContain(a.body.outcome);
      expect(a.body).toMatchObject({ service: "sonarr", action: "promote", to: "backup" });
    }
    // Every `applied` names the one commit that exists.
    const sha = added[0]?.sha;
    for (const a of applied) expect((a.body.commit as { sha?: string }).sha).toBe(sha);
    // Exactly one request says it made the change (finding 1 in docs/proofs.md, fixed with a
    // per-request trailer), and one Deployment records it.
    expect(applied).toHaveLength(1);
    const deployments = deploymentsState({ fake: repo.fake.context }).filter(
      (d) => d.environment === "failover-sonarr",
    );
    expect(deployments).toHaveLength(1);
    console.info(
      `  answers claiming the one commit as theirs ("applied"): ${applied.length}; Deployments recorded for it: ${deployments.length}`,
    );
  });

  // Finding 1 (docs/proofs.md): a request that loses the compare-and-swap to an IDENTICAL
  // request (same service, action, trigger, requester: two replicas behind one ingress see
  // the same client address) takes the winner's commit for its own lost write
  // (GitHubRepo.#findLanded matches parent, message and files) and answers `applied` too, and
  // records a second Deployment. Fixed by the Failover-Request trailer (a nonce per request).
  // Deterministic here: both writes are held until both reads are done.
  it("two identical promotes, one on each replica: exactly one answers applied", async () => {
    const radarr = repo.services.find((s) => s.name === "radarr");
    if (radarr === undefined) throw new Error("no radarr");
    const before = history(repo.fake.dir);
    const hold = repo.fake.inject({
      match: { graphqlMutation: "createCommitOnBranch" },
      times: 2,
      delayMs: 400,
    });
    const answers = await Promise.all(
      replicas.map((r) => callJson(`${r.url}/api/failover/radarr/promote`, { method: "POST" })),
    );
    hold.cancel();
    const added = history(repo.fake.dir).slice(before.length);
    console.info(
      `finding 1 repro: ${answers.map((a) => `${a.status} ${String(a.body.outcome)}`).join(", ")}; new commits ${added.length}`,
    );
    expect(added).toHaveLength(1);
    expect(sideOf(repo.fake.dir, radarr)).toBe("backup");
    expect(answers.map((a) => a.body.outcome).sort()).toEqual(["applied", "no_op"]);
  });

  it("(b) 20 services promoted concurrently over both replicas: 20 commits, linear, none lost", async () => {
    const targets = repo.services.filter((s) => s.name.startsWith("svc-"));
    expect(targets).toHaveLength(GENERATED);
    const before = history(repo.fake.dir);
    repo.fake.resetLog();
    const started = performance.now();
    const answers = await Promise.all(
      targets.map((s, i) =>
        callJson(`${replicas[i % 2]?.url}/api/failover/${s.name}/promote`, { method: "POST" }),
      ),
    );
    const wallMs = performance.now() - started;
    const after = history(repo.fake.dir);
    const added = after.slice(before.length);
    const writes = repo.fake.graphqlRequests.filter((r) => r.operationType === "mutation");
    console.info(
      `two replicas, 20 services promoted at once: ${JSON.stringify(countBy(answers.map((a) => `${a.status} ${String(a.body.outcome)}`)))}; new commits ${added.length}; createCommitOnBranch calls ${writes.length} (${writes.length - added.length} lost the compare-and-swap and were re-planned); wall ${wallMs.toFixed(0)} ms`,
    );

    for (const [i, a] of answers.entries()) {
      expect(a.status, a.text).toBe(200);
      expect(a.body).toMatchObject({ outcome: "applied", service: targets[i]?.name, to: "backup" });
    }
    expect(added).toHaveLength(GENERATED);
    // Linear: every commit has exactly one parent, the commit before it.
    expect(isLinear(after)).toBe(true);
    expect(added[0]?.parents).toEqual([before.at(-1)?.sha]);
    // No update lost: each service has its one commit and its manifest is on backup at the head.
    for (const s of targets) {
      expect(failoverCommits(added, s.name), s.name).toHaveLength(1);
      expect(sideOf(repo.fake.dir, s), s.name).toBe("backup");
    }
    // And the answers name the commits that exist.
    const shas = new Set(added.map((c) => c.sha));
    for (const a of answers) expect(shas.has((a.body.commit as { sha: string }).sha)).toBe(true);
    // Each commit touches its own service's file and nothing else.
    for (const c of added) {
      const files = git(repo.fake.dir, "show", "--format=", "--name-only", c.sha).trim();
      const owner = targets.find((s) => c.message.includes(`\nFailover-Service: ${s.name}\n`));
      expect(files).toBe(owner?.path);
    }
  });
});

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
