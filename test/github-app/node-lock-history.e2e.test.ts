import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pullsState } from "../fake-github/pull-merge.js";
import { deploymentsState } from "../fake-github/routes/deployments.js";
import { issuesState } from "../fake-github/routes/issues.js";
import { commitCount, git } from "../helpers/git.js";
import { type AppServer, startAppServer } from "../helpers/github-app-server.js";
import { issueComment } from "../helpers/webhook-payloads.js";
import { deliver } from "./deliver.js";

describe("node-wide failover, locks and history in GitHub mode", () => {
  let app: AppServer;
  beforeEach(async () => {
    app = await startAppServer({ roles: { alice: "write" } });
  });
  afterEach(async () => {
    await app.close();
  });
  const replies = () => issuesState({ fake: app.fake.context }).comments.map((c) => c.body);
  const call = async (method: string, path: string) => {
    const res = await fetch(`${app.url}${path}`, { method });
    const body = (await res.json()) as Record<string, unknown>;
    await app.runtime.background.idle(); // the after-effects: audit, superseded PRs
    return { status: res.status, body };
  };

  it("urgent node-wide failover: both services in one commit, one GraphQL read and one write", async () => {
    await call("GET", "/api/failover/sonarr/status"); // warm: installation, token, tree
    app.fake.resetLog();
    const res = await call("POST", "/api/nodes/primary/promote");
    expect(res.body).toMatchObject({
      outcome: "applied",
      services: [
        { service: "radarr", result: "changed" },
        { service: "sonarr", result: "changed" },
      ],
    });
    expect(commitCount(app.fake.dir)).toBe(2);
    const graphql = app.fake.graphqlRequests.map(
      (r) => `${r.operationType} ${(r.rootFields ?? []).join(",")}`,
    );
    expect(graphql).toEqual(["query repository", "mutation createCommitOnBranch"]);
    // The audit trail: ONE Deployment for the one commit, naming both services.
    const head = git(app.fake.dir, "rev-parse", "main").trim();
    const deployments = deploymentsState({ fake: app.fake.context });
    expect(deployments.map((d) => [d.environment, d.sha])).toEqual([
      ["failover-node-primary", head],
    ]);
    expect(deployments[0]?.payload).toMatchObject({
      services: ["radarr", "sonarr"],
      node: "primary",
    });
    console.info(
      `node-wide urgent failover of 2 services: ${app.fake.requests.length} API calls in all (${graphql.length} GraphQL)`,
    );
  });

  it("an urgent node-wide failover closes a pending service PR it supersedes, known from its read", async () => {
    const armed = await call("POST", "/api/failover/sonarr/promote?mode=pr");
    expect(armed.body.outcome).toBe("pr_armed");
    app.fake.resetLog();
    const res = await call("POST", "/api/nodes/primary/promote");
    // Answered at landing; the pending PR is closed after the answer, by a listener.
    expect(res.body).toMatchObject({ outcome: "applied" });
    await app.runtime.background.idle();
    expect(pullsState(app.fake).pulls[0]?.state).toBe("closed");
    // The failover's one GraphQL read listed the open failover PRs: no REST listing.
    const listings = app.fake.requests.filter(
      (r) => r.method === "GET" && r.path === "/repos/acme/gitops/pulls",
    );
    expect(listings).toHaveLength(0);
  });

  it("PR-mode node-wide failover: one PR from failover/node-primary carrying both services", async () => {
    const res = await call("POST", "/api/nodes/primary/promote?mode=pr");
    expect(res.body).toMatchObject({ outcome: expect.stringMatching(/^pr_/) });
    const { pulls } = pullsState(app.fake);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({
      headRef: "failover/node-primary",
      title: "failover(node primary): promote to backup",
    });
    expect(
      git(app.fake.dir, "diff", "--name-only", "main", "failover/node-primary")
        .trim()
        .split("\n")
        .sort(),
    ).toEqual([
      "clusters/homelab/apps/media/radarr/deployment.yaml",
      "clusters/homelab/apps/media/sonarr/deployment.yaml",
    ]);
  });

  it("ChatOps: lock, a refused promote, node-wide with the locked one left out, unlock, history", async () => {
    const say = (body: string) => deliver(app, "issue_comment", issueComment(body, "alice"));
    await say("/failover lock sonarr NAS firmware update");
    await say("/failover sonarr promote");
    await say("/failover node primary promote");
    await say("/failover unlock sonarr");
    await say("/failover sonarr promote");
    app.fake.resetLog();
    await say("/failover sonarr history");
    // One read, then ONE GraphQL query walking the service's files (no REST commit listing).
    const queries = app.fake.graphqlRequests.map((r) => r.operationName);
    expect(queries).toEqual(["FailoverReadFiles", "FailoverHistory"]);
    expect(app.fake.requests.filter((r) => r.path.endsWith("/commits"))).toEqual([]);
    const [locked, refused, node, unlocked, promoted, history] = replies();
    expect(locked).toMatch(/🔒 @alice: sonarr locked by alice: NAS firmware update/);
    expect(refused).toMatch(
      /locked: sonarr is locked by alice since .*: NAS firmware update; unlock it first/,
    );
    expect(node).toMatch(/node primary: 1 service\(s\) moved to backup/);
    expect(node).toMatch(/\| `radarr` \| primary → backup \|/);
    expect(node).toMatch(/\| `sonarr` \| locked: sonarr is locked by alice/);
    expect(unlocked).toMatch(/🔓 @alice: sonarr unlocked/);
    expect(promoted).toMatch(/sonarr moved from primary to backup/);
    expect(history).toMatch(/Failovers of \*\*sonarr\*\*, newest first/);
    expect(history).toMatch(/\| promote \| primary → backup \| alice \| chatops \|/);
  });
});
