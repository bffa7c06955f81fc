import { afterEach, describe, expect, it } from "vitest";
import { deploymentsState } from "../fake-github/routes/deployments.js";
import { git } from "../helpers/git.js";
import { type AppServer, startAppServer } from "../helpers/github-app-server.js";
import { examplePayload } from "../helpers/webhook-payloads.js";
import { deliver } from "./deliver.js";

/**
 * The audit rebuilt from Git on start (issue 11), in process: the Deployments writes of a
 * first server fail (as a process killed before them would leave it), a second server on
 * the same GitHub (the restart) reconciles: one Deployment per failover commit, none for
 * other commits, none twice; and Flux's word arriving after the restart still ends the
 * rebuilt Deployment of a commit inside the confirmation window.
 */
describe("audit reconciled from Git on start", () => {
  const servers: AppServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0).reverse()) {
      await s.runtime.background.idle();
      await s.close();
    }
  });
  const start = async (fake?: AppServer["fake"]) => {
    // No resends of the failing Deployment writes (the retry plugin's waits add up).
    const env = { GITHUB_RETRIES: "0" };
    const s = await startAppServer(fake === undefined ? { env } : { env, fake });
    servers.push(s);
    return s;
  };
  const post = async (app: AppServer, path: string) => {
    const res = await fetch(`${app.url}${path}`, { method: "POST" });
    const body = (await res.json()) as { outcome?: string; commit?: { sha: string } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.outcome).toBe("applied");
    return body.commit?.sha ?? "";
  };
  const trailer = (app: AppServer, sha: string) =>
    /^Failover-Request: (.+)$/m.exec(git(app.fake.dir, "log", "-1", "--format=%B", sha))?.[1];

  it("a failover commit without a Deployment gets one after a restart, once; Flux then ends it", async () => {
    const first = await start();
    // Every Deployment write fails: what a kill between the commit and the audit leaves.
    first.fake.inject({
      match: { method: "POST", path: /^\/repos\/acme\/gitops\/deployments$/ },
      respond: { status: 502 },
      times: Number.POSITIVE_INFINITY,
    });
    const single = await post(first, "/api/failover/sonarr/promote");
    const node = await post(first, "/api/nodes/primary/promote");
    await first.runtime.background.idle();
    const deployments = () => deploymentsState({ fake: first.fake.context });
    expect(deployments()).toHaveLength(0);
    first.fake.clearFaults();
    // A commit that is not a failover, on top: the reconciler leaves it alone.
    const dir = first.fake.dir;
    const tree = git(dir, "rev-parse", "main^{tree}").trim();
    const other = git(dir, "commit-tree", tree, "-p", "main", "-m", "docs: notes").trim();
    git(dir, "update-ref", "refs/heads/main", other);
    // A failover commit from two hours ago (past FLUX_CONFIRM_TIMEOUT_MS), written by hand.
    const old = withCommitterDate(new Date(Date.now() - 2 * 3600_000), () =>
      git(dir, "commit-tree", tree, "-p", "main", "-m", OLD_FAILOVER).trim(),
    );
    git(dir, "update-ref", "refs/heads/main", old);

    const second = await start(first.fake);
    expect(second.runtime.reconcileAudit).toBeDefined();
    second.runtime.reconcileAudit?.();
    await second.runtime.background.idle();
    expect(
      deployments().map((d) => [
        d.sha,
        d.environment,
        (d.payload as { operation?: string }).operation,
      ]),
    ).toEqual([
      [single, "failover-sonarr", trailer(first, single)],
      [node, "failover-node-primary", trailer(first, node)],
      [old, "failover-sonarr", "old-operation-1"],
    ]);
    expect(deployments()[1]?.payload).toMatchObject({
      node: "primary",
      action: "promote",
      services: ["radarr"],
    });
    // Inside the confirmation window the rebuilt record waits for Flux; past it, Flux's word
    // is not known any more, and the record says so.
    expect(deployments().map((d) => d.statuses.map((s) => s.state))).toEqual([
      ["in_progress"],
      ["in_progress"],
      ["in_progress", "error"],
    ]);

    // Started again (or a second replica later), after 45 Deployments of something else have
    // pushed ours off the first page: each found by its commit's sha and operation, nothing
    // written.
    const ours = deployments().slice();
    for (let i = 0; i < 45; i++) {
      deployments().push({
        id: 8000 + i,
        sha: node,
        ref: "main",
        environment: "production",
        task: "deploy",
        payload: {},
        description: null,
        statuses: [],
      });
    }
    second.fake.resetLog();
    second.runtime.reconcileAudit?.();
    await second.runtime.background.idle();
    expect(
      second.fake.requests.map((r) => `${r.method} ${r.path}`).filter((p) => p.startsWith("POST")),
    ).toEqual([]);
    expect(deployments().filter((d) => d.environment !== "production")).toEqual(ours);
    const lists = second.fake.requests.filter((r) => r.path === "/repos/acme/gitops/deployments");
    expect(lists.map((r) => r.query.sha ?? "recent")).toEqual(["recent", single, node, old]);

    // Flux's github Provider confirms the node-wide commit: the rebuilt Deployment succeeds.
    const status = examplePayload("status") as { repository: Record<string, unknown> };
    // The same status from another repository (a fork with the same shas) confirms nothing.
    const foreign = await deliver(second, "status", {
      ...status,
      sha: node,
      state: "success",
      context: "kustomization/apps/7d0cd1e1",
      description: "ReconciliationSucceeded",
    });
    expect(foreign.status).toBe(200);
    await second.runtime.background.idle();
    expect(ours[1]?.statuses.map((s) => s.state)).toEqual(["in_progress"]);
    const res = await deliver(second, "status", {
      ...status,
      // The GitOps repository's own status (another repository's never confirms).
      repository: { ...status.repository, full_name: "acme/gitops", name: "gitops" },
      sha: node,
      state: "success",
      context: "kustomization/apps/7d0cd1e1",
      description: "ReconciliationSucceeded",
    });
    expect(res.status).toBe(200);
    await second.runtime.background.idle();
    expect(ours[1]?.statuses.map((s) => s.state)).toEqual(["in_progress", "success"]);
  });
});

const OLD_FAILOVER = `failover(sonarr): demote to primary

Failover-Service: sonarr
Failover-Action: demote
Failover-From: backup
Failover-To: primary
Failover-Trigger: http
Failover-Requester: someone
Failover-Request: old-operation-1
`;

/** Runs `make` with git's committer date set (commit-tree reads it from the environment). */
function withCommitterDate<T>(date: Date, make: () => T): T {
  const saved = process.env.GIT_COMMITTER_DATE;
  process.env.GIT_COMMITTER_DATE = date.toISOString();
  try {
    return make();
  } finally {
    if (saved === undefined) delete process.env.GIT_COMMITTER_DATE;
    else process.env.GIT_COMMITTER_DATE = saved;
  }
}
