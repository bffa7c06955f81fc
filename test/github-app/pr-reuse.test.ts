import { afterEach, describe, expect, it } from "vitest";
import { completeChecks, configureRepo, pullsState } from "../fake-github/pull-merge.js";
import { git } from "../helpers/git.js";
import {
  callJson,
  type InProcessServer,
  RADARR_PATH,
  SONARR_PATH,
  startTokenServer,
} from "../proof/fixture.js";

/**
 * An open failover PR is reused only when its branch, against the base, is exactly the new
 * plan. A wider plan's leftover (a service since locked), a file outside the plan or someone
 * else's commit must never reach main through the reused PR.
 */
const NODE_BRANCH = "failover/node-primary";
const SONARR_BRANCH = "failover/sonarr";
const OURS = "Failover-Service: sonarr\nFailover-Request: 00000000-0000-4000-8000-000000000000";

const servers: InProcessServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function prServer(autoMerge: "armed" | "not_allowed" | "clean"): Promise<InProcessServer> {
  const server = await startTokenServer({ FAILOVER_MODE: "pr" });
  servers.push(server);
  configureRepo(server.fake, { autoMerge, deleteBranchOnMerge: false });
  return server;
}

async function post(server: InProcessServer, path: string) {
  const answer = await callJson(`${server.url}${path}`, { method: "POST" });
  await server.idle(); // the after-effects (audit, superseded PRs) run after the answer
  return answer;
}

const role = (server: InProcessServer, ref: string, path: string): string =>
  /role: (\w+)/.exec(git(server.fake.dir, "show", `${ref}:${path}`))?.[1] ?? "?";
const rev = (server: InProcessServer, ref: string): string =>
  git(server.fake.dir, "rev-parse", ref).trim();
const changed = (server: InProcessServer, from: string, to: string): string[] =>
  git(server.fake.dir, "diff", "--name-only", from, to).trim().split("\n").sort();

/** A PR from `branch`, opened as another client would, over one commit of ours on main. */
async function openPullRequest(
  server: InProcessServer,
  branch: string,
  message: string,
  changes: { path: string; text: string }[],
): Promise<string> {
  const main = rev(server, "main");
  git(server.fake.dir, "update-ref", `refs/heads/${branch}`, main, "");
  const commit = await server.fake.repo.commit({ branch, expectedHead: main, message, changes });
  const res = await fetch(`${server.fake.url}/repos/acme/gitops/pulls`, {
    method: "POST",
    headers: { authorization: "token other", "content-type": "application/json" },
    body: JSON.stringify({ title: "left open", head: `acme:${branch}`, base: "main" }),
  });
  expect(res.status).toBe(201);
  return commit.sha;
}

describe("PR mode: an open PR's branch is reused only when it is exactly the plan", () => {
  it("a node PR left open with radarr+sonarr, then sonarr locked: the next node promote does not move sonarr", async () => {
    const server = await prServer("armed");
    const first = await post(server, "/api/nodes/primary/promote");
    expect(first.body.outcome, first.text).toBe("pr_armed");
    expect(changed(server, "main", NODE_BRANCH)).toEqual([RADARR_PATH, SONARR_PATH].sort());

    const lock = await post(server, "/api/failover/sonarr/lock");
    expect(lock.status, lock.text).toBe(200);
    const second = await post(server, "/api/nodes/primary/promote");
    expect(second.status, second.text).toBe(200);
    expect(second.body).toMatchObject({ pull_request: { number: 1, reused: true } });
    // The PR's branch now carries radarr alone, on top of the current main.
    expect(changed(server, "main", NODE_BRANCH)).toEqual([RADARR_PATH]);
    expect(git(server.fake.dir, "rev-parse", `${NODE_BRANCH}~1`).trim()).toBe(rev(server, "main"));
    const pr = pullsState(server.fake).pulls[0];
    expect(pr?.title).toBe("failover(node primary): promote to backup");
    expect(pr?.body).not.toContain("`sonarr`");

    await completeChecks(server.fake);
    expect(pullsState(server.fake).merges).toBe(1);
    expect(role(server, "main", RADARR_PATH)).toBe("backup");
    expect(role(server, "main", SONARR_PATH), "locked: it stays").toBe("primary");
  });

  it("a service PR whose branch also changes a file outside the plan is rebuilt from main", async () => {
    const server = await prServer("not_allowed");
    const main = rev(server, "main");
    const backup = git(server.fake.dir, "show", `main:${SONARR_PATH}`)
      .replace("        role: primary\n", "        role: backup\n")
      .replace("claimName: pvc-sonarr\n", "claimName: pvc-sonarr-backup\n");
    const left = await openPullRequest(server, SONARR_BRANCH, `failover(sonarr): old\n\n${OURS}`, [
      { path: SONARR_PATH, text: backup },
      { path: "stale.txt", text: "not in the plan\n" },
    ]);
    const res = await post(server, "/api/failover/sonarr/promote");
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      outcome: "pr_merged",
      pull_request: { number: 1, reused: true },
    });
    expect(pullsState(server.fake).pulls[0]?.headSha).not.toBe(left);
    // Only the planned file reached main, with the planned text.
    expect(changed(server, main, "main")).toEqual([SONARR_PATH]);
    expect(git(server.fake.dir, "show", `main:${SONARR_PATH}`)).toBe(backup);
  });

  it("someone else's commit on an open PR's branch is not merged: 409, branch and PR left alone", async () => {
    const server = await prServer("armed");
    const first = await post(server, "/api/failover/sonarr/promote");
    expect(first.body.outcome, first.text).toBe("pr_armed");
    const ours = rev(server, SONARR_BRANCH);
    const theirs = (
      await server.fake.repo.commit({
        branch: SONARR_BRANCH,
        expectedHead: ours,
        message: "wip: my own tweak",
        changes: [{ path: "README.md", text: "mine\n" }],
      })
    ).sha;
    const main = rev(server, "main");

    const again = await post(server, "/api/failover/sonarr/promote");
    expect(again.status, again.text).toBe(409);
    expect((again.body.error as { message: string }).message).toMatch(
      /has commits failover-api did not make/,
    );
    expect(rev(server, SONARR_BRANCH)).toBe(theirs);
    expect(rev(server, "main")).toBe(main);
    expect(pullsState(server.fake).merges).toBe(0);
    expect(pullsState(server.fake).pulls[0]?.state).toBe("open");
  });
});

describe("PR mode: the merge commit on main carries the change's message and trailers", () => {
  const branchMessage = (server: InProcessServer, pr: number) => {
    const sha = pullsState(server.fake).pulls.find((p) => p.number === pr)?.headSha ?? "";
    const message = git(server.fake.dir, "log", "-1", "--format=%B", sha).trim();
    const [headline = "", ...rest] = message.split("\n");
    return `${headline} (#${pr})\n${rest.join("\n")}`;
  };

  it("a direct merge (REST) pins title and message", async () => {
    const server = await prServer("not_allowed");
    const res = await post(server, "/api/failover/sonarr/promote");
    expect(res.body.outcome, res.text).toBe("pr_merged");
    const onMain = git(server.fake.dir, "log", "-1", "--format=%B", "main").trim();
    expect(onMain).toBe(branchMessage(server, 1));
    expect(onMain).toMatch(/^Failover-Request: \S+$/m);
    expect(onMain).toMatch(/^Failover-Service: sonarr$/m);
  });

  it("auto-merge (GraphQL) pins headline and body", async () => {
    const server = await prServer("armed");
    const res = await post(server, "/api/failover/sonarr/promote");
    expect(res.body.outcome, res.text).toBe("pr_armed");
    expect(pullsState(server.fake).pulls[0]?.autoMerge?.commitBody).toMatch(/Failover-Request:/);
    await completeChecks(server.fake);
    const onMain = git(server.fake.dir, "log", "-1", "--format=%B", "main").trim();
    expect(onMain).toBe(branchMessage(server, 1));
    expect(onMain).toMatch(/^Failover-Request: \S+$/m);
  });
});
