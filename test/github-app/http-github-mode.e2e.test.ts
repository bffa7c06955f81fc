import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deploymentsState } from "../fake-github/routes/deployments.js";
import { commitCount, fileAt, git, lastCommitChangedLines } from "../helpers/git.js";
import { type AppServer, startAppServer } from "../helpers/github-app-server.js";

const SONARR = "clusters/homelab/apps/media/sonarr/deployment.yaml";

/** The seed's curl examples, unchanged, with the app committing through the GitHub API. */
describe("HTTP API in GitHub mode (urgent)", () => {
  let app: AppServer;
  beforeEach(async () => {
    app = await startAppServer();
  });
  afterEach(async () => {
    await app.close();
  });
  const call = async (method: string, path: string) => {
    const res = await fetch(`${app.url}${path}`, { method });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("promote: answered after 2 GitHub calls (read, commit) with the commit linked; the deployment follows", async () => {
    const original = fileAt(app.fake.dir, "main", SONARR);
    await call("GET", "/api/failover/sonarr/status"); // warm: installation lookup, token, default branch, manifest search
    app.fake.resetLog();
    const { status, body } = await call("POST", "/api/failover/sonarr/promote");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      outcome: "applied",
      mode: "urgent",
      from: "primary",
      to: "backup",
    });
    const commit = body.commit as { sha: string; url: string };
    expect(commit.sha).toBe(git(app.fake.dir, "rev-parse", "main").trim());
    expect(commit.url).toBe(`${app.fake.webUrl}/acme/gitops/commit/${commit.sha}`);
    expect(lastCommitChangedLines(app.fake.dir)).toHaveLength(4);
    // The answer came at landing: the read and the write. Then, after it, the listeners: a
    // look for a pending failover PR it would supersede, and the Deployments audit.
    const calls = () =>
      app.fake.requests.map((r) => `${r.method} ${r.path} ${r.operationType ?? ""}`.trim());
    expect(calls().slice(0, 2)).toEqual(["POST /graphql query", "POST /graphql mutation"]);
    expect(body).not.toHaveProperty("deployment");
    await app.runtime.background.idle();
    // After the answer: the audit only (the read already listed the open failover PRs).
    expect(calls().slice(2).sort()).toEqual([
      "POST /repos/acme/gitops/deployments",
      "POST /repos/acme/gitops/deployments/7000/statuses",
    ]);
    const deployments = deploymentsState({ fake: app.fake.context });
    expect(deployments).toHaveLength(1);
    expect(deployments[0]).toMatchObject({ sha: commit.sha, environment: "failover-sonarr" });
    expect(deployments[0]?.statuses[0]).toMatchObject({
      state: "in_progress",
      log_url: commit.url,
    });

    // promote again: no commit; demote restores the bytes
    expect((await call("POST", "/api/failover/sonarr/promote")).body.outcome).toBe("no_op");
    expect(commitCount(app.fake.dir)).toBe(2);
    expect((await call("POST", "/api/failover/sonarr/demote")).body.outcome).toBe("applied");
    expect(fileAt(app.fake.dir, "main", SONARR)).toBe(original);
  });

  it("list, status, dry run, health and errors behave as on the local backend", async () => {
    expect((await call("GET", "/api/services")).body.services).toHaveLength(2);
    expect((await call("GET", "/api/failover/radarr/status")).body).toMatchObject({
      state: "primary",
    });
    const dry = await call("GET", "/api/failover/radarr/promote?dry-run=true");
    expect(dry.body).toMatchObject({ outcome: "dry_run" });
    expect((await call("GET", "/api/health")).body).toEqual({ status: "ok" });
    expect((await call("POST", "/api/failover/lidarr/promote")).status).toBe(404);
    expect((await call("GET", "/api/failover/radarr/promote")).status).toBe(405);
    expect((await call("POST", "/api/failover/radarr/promote?mode=sideways")).status).toBe(400);
    expect(commitCount(app.fake.dir)).toBe(1);
  });

  it("a write whose answer is lost (502 after landing, retried) ends as applied with exactly one commit", async () => {
    await call("GET", "/api/failover/sonarr/status");
    app.fake.inject({
      match: { graphqlMutation: "createCommitOnBranch" },
      landThenFail: { status: 502 },
    });
    const { status, body } = await call("POST", "/api/failover/sonarr/promote");
    expect(status).toBe(200);
    expect(body.outcome).toBe("applied");
    expect(commitCount(app.fake.dir)).toBe(2);
  });

  it("GitHub failing reads answer 502 upstream and write nothing", async () => {
    await app.close();
    app = await startAppServer({ env: { GITHUB_RETRIES: "1" } });
    await call("GET", "/api/failover/sonarr/status");
    app.fake.inject({
      match: { path: /graphql/ },
      times: 10,
      respond: { status: 503, body: { message: "unavailable" } },
    });
    const { status, body } = await call("POST", "/api/failover/sonarr/promote");
    expect(status).toBe(502);
    expect((body.error as { code: string }).code).toBe("upstream");
    expect(commitCount(app.fake.dir)).toBe(1);
    // The request and one retry, nothing else.
    expect(app.fake.requests.filter((r) => r.status === 503)).toHaveLength(2);
  });
});
