import { describe, expect, it } from "vitest";
import type { FaultMatch } from "../fake-github/fake-github.js";
import { configureRepo, pullsState } from "../fake-github/pull-merge.js";
import { deploymentsState } from "../fake-github/routes/deployments.js";
import { git } from "../helpers/git.js";
import { TEST_BOUNDS } from "../helpers/test-bounds.js";
import {
  callJson,
  type InProcessServer,
  SONARR_PATH,
  serviceFile,
  sideOf,
  startTokenServer,
} from "../proof/fixture.js";

/**
 * PR mode converging to the answer of the uninterrupted case: concurrent identical requests
 * (one merge, the others `no_op`, as urgent mode answers), and a `failover/<service>` branch
 * left behind by a request killed between two steps (reused or replaced) or made by someone
 * else (left alone, 409).
 */
const BRANCH = "failover/sonarr";

async function withPrServer(
  env: Record<string, string>,
  run: (server: InProcessServer) => Promise<void>,
): Promise<void> {
  const server = await startTokenServer({ FAILOVER_MODE: "pr", ...TEST_BOUNDS, ...env });
  configureRepo(server.fake, { autoMerge: "clean", deleteBranchOnMerge: false });
  try {
    await callJson(`${server.url}/api/failover/sonarr/status`);
    await run(server);
  } finally {
    await server.close();
  }
}

/** Holds the first request matching `match` unanswered until `cancel()`; `taken` when it arrives. */
function holdFirst(
  server: InProcessServer,
  match: FaultMatch,
): { readonly taken: Promise<void>; cancel(): void } {
  let arrived: () => void = () => undefined;
  const taken = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const fault = server.fake.inject({ match, hang: true, onTaken: () => arrived() });
  return { taken, cancel: () => fault.cancel() };
}

function branchHead(server: InProcessServer): string | undefined {
  try {
    return git(server.fake.dir, "rev-parse", "--verify", "--quiet", `refs/heads/${BRANCH}`).trim();
  } catch {
    return undefined;
  }
}

async function sonarrSide(server: InProcessServer): Promise<string> {
  const text = (await server.fake.repo.read("main", [SONARR_PATH])).files.get(SONARR_PATH) ?? "";
  const primary = text
    .replace("        role: backup\n", "        role: primary\n")
    .replace("claimName: pvc-sonarr-backup\n", "claimName: pvc-sonarr\n");
  return sideOf(server.fake.dir, serviceFile("sonarr", SONARR_PATH, primary));
}

describe("PR mode: races and leftovers converge", () => {
  it("10 identical concurrent requests: one merge, nine no_op, no 409", async () => {
    await withPrServer({ FAILOVER_RATE_LIMIT: "0" }, async (server) => {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          callJson(`${server.url}/api/failover/sonarr/promote`, { method: "POST" }),
        ),
      );
      const summary = answers.map((a) => `${a.status} ${String(a.body.outcome ?? a.text)}`);
      console.info(`PR mode, 10 concurrent promotes: ${summary.sort().join("; ")}`);
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
      const outcomes = answers.map((a) => String(a.body.outcome));
      expect(outcomes.filter((o) => o === "pr_merged")).toHaveLength(1);
      expect(outcomes.filter((o) => o === "no_op")).toHaveLength(9);
      expect(pullsState(server.fake).merges).toBe(1);
      expect(await sonarrSide(server)).toBe("backup");
      await server.idle(); // the audit is written after the answer
      const deployments = deploymentsState({ fake: server.fake.context });
      expect(deployments.map((d) => d.statuses.map((s) => s.state).join(","))).toEqual([
        "in_progress",
      ]);
    });
  });

  it("its merge refused because the change landed meanwhile (PR closed as superseded): no_op, not 409", async () => {
    await withPrServer({ FAILOVER_RATE_LIMIT: "0" }, async (server) => {
      // Hold the PR request's merge; meanwhile an urgent request lands the same change on
      // main, and its cleanup closes the PR as superseded. The held merge then finds the PR
      // closed (405): the change is in Git, so the answer is the no_op a re-read gives.
      const hold = holdFirst(server, { method: "PUT", path: /\/pulls\/\d+\/merge$/ });
      const held = callJson(`${server.url}/api/failover/sonarr/promote`, { method: "POST" });
      await hold.taken;
      const urgent = await callJson(`${server.url}/api/failover/sonarr/promote?mode=urgent`, {
        method: "POST",
      });
      expect(urgent.body.outcome).toBe("applied");
      await server.idle(); // the superseded PR is closed after the answer
      expect(pullsState(server.fake).pulls.map((p) => p.state)).toEqual(["closed"]);
      hold.cancel();
      const answer = await held;
      expect([answer.status, answer.body.outcome]).toEqual([200, "no_op"]);
      expect(pullsState(server.fake).merges).toBe(0);
      expect(await sonarrSide(server)).toBe("backup");
    });
  });

  it("planned before another request's merge landed the change: no second PR merged, no_op", async () => {
    await withPrServer({ FAILOVER_RATE_LIMIT: "0" }, async (server) => {
      // The first request reads main, then its branch creation is held; a second request
      // makes the whole change meanwhile (branch, PR #1, merge, branch deleted). Released, the
      // first builds its branch on the main it read and opens PR #2 (allowed: #1 is merged).
      // Merging #2 would land an empty commit and a second pr_merged: main moved since its
      // read, so it plans again and finds the change there.
      const hold = holdFirst(server, { method: "POST", path: /\/git\/refs$/ });
      const first = callJson(`${server.url}/api/failover/sonarr/promote`, { method: "POST" });
      await hold.taken;
      const second = await callJson(`${server.url}/api/failover/sonarr/promote`, {
        method: "POST",
      });
      expect(second.body.outcome).toBe("pr_merged");
      hold.cancel();
      const answer = await first;
      expect([answer.status, answer.body.outcome]).toEqual([200, "no_op"]);
      expect(pullsState(server.fake).merges).toBe(1);
      expect(pullsState(server.fake).pulls.filter((p) => p.state === "open")).toEqual([]);
      expect(await sonarrSide(server)).toBe("backup");
    });
  });

  it("a branch left after the merge (its deletion failed) is replaced by the next failover", async () => {
    await withPrServer({ GITHUB_RETRIES: "0" }, async (server) => {
      const deletion = server.fake.inject({
        match: { method: "DELETE", path: /\/git\/refs\// },
        respond: { status: 502 },
        times: Number.POSITIVE_INFINITY,
      });
      const first = await callJson(`${server.url}/api/failover/sonarr/promote`, { method: "POST" });
      expect(first.body.outcome, first.text).toBe("pr_merged");
      const left = branchHead(server);
      expect(left, "the merged branch stayed").toBeDefined();
      deletion.cancel();
      const second = await callJson(`${server.url}/api/failover/sonarr/demote`, { method: "POST" });
      expect(second.status, second.text).toBe(200);
      expect(second.body.outcome).toBe("pr_merged");
      expect(await sonarrSide(server)).toBe("primary");
      expect(branchHead(server), "cleaned up after the second merge").toBeUndefined();
    });
  });

  it("its branch deleted under its commit (a concurrent merge's cleanup) is a lost race: planned again", async () => {
    await withPrServer({ GITHUB_RETRIES: "0" }, async (server) => {
      // A merged branch left behind, so the demote builds on it; its commit is held while the
      // branch is deleted, as a concurrent request's merge deletes its branch. GitHub answers
      // NOT_FOUND for the vanished branch; that is a race to re-plan, not a 502.
      const deletion = server.fake.inject({
        match: { method: "DELETE", path: /\/git\/refs\// },
        respond: { status: 502 },
      });
      const first = await callJson(`${server.url}/api/failover/sonarr/promote`, { method: "POST" });
      expect(first.body.outcome, first.text).toBe("pr_merged");
      deletion.cancel();
      expect(branchHead(server), "the merged branch stayed").toBeDefined();
      const hold = holdFirst(server, { graphqlMutation: "createCommitOnBranch" });
      const held = callJson(`${server.url}/api/failover/sonarr/demote`, { method: "POST" });
      await hold.taken;
      git(server.fake.dir, "update-ref", "-d", `refs/heads/${BRANCH}`);
      hold.cancel();
      const answer = await held;
      expect([answer.status, answer.body.outcome], answer.text).toEqual([200, "pr_merged"]);
      expect(await sonarrSide(server)).toBe("primary");
      expect(pullsState(server.fake).merges).toBe(2);
    });
  });

  it("a branch with our commit but no PR (killed before opening it) is reused", async () => {
    await withPrServer({ GITHUB_RETRIES: "0" }, async (server) => {
      server.fake.inject({ match: { method: "POST", path: /\/pulls$/ }, respond: { status: 502 } });
      const first = await callJson(`${server.url}/api/failover/sonarr/promote`, { method: "POST" });
      expect(first.status).toBe(502);
      const left = branchHead(server);
      expect(left).toBeDefined();
      const second = await callJson(`${server.url}/api/failover/sonarr/promote`, {
        method: "POST",
      });
      expect(second.status, second.text).toBe(200);
      expect(second.body.outcome).toBe("pr_merged");
      const pulls = pullsState(server.fake).pulls;
      expect(pulls).toHaveLength(1);
      expect(pulls[0]?.headSha, "the PR carries the commit the first request made").toBe(left);
      expect(await sonarrSide(server)).toBe("backup");
    });
  });

  it("someone else's failover/ branch is left alone: 409, never deleted or moved", async () => {
    await withPrServer({}, async (server) => {
      const dir = server.fake.dir;
      const main = git(dir, "rev-parse", "main").trim();
      const tree = git(dir, "rev-parse", `${main}^{tree}`).trim();
      const theirs = git(
        dir,
        "commit-tree",
        tree,
        "-p",
        main,
        "-m",
        "wip: my own experiment",
      ).trim();
      git(dir, "update-ref", `refs/heads/${BRANCH}`, theirs, "");
      const answer = await callJson(`${server.url}/api/failover/sonarr/promote`, {
        method: "POST",
      });
      expect(answer.status, answer.text).toBe(409);
      expect((answer.body.error as { message: string }).message).toMatch(
        /has commits failover-api did not make/,
      );
      expect(branchHead(server)).toBe(theirs);
      expect(await sonarrSide(server)).toBe("primary");
    });
  });
});
