import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitCount, fileAt, git, lastCommitChangedLines } from "../helpers/git.js";
import { type DemoServer, startDemoServer } from "../helpers/http-server.js";

const SONARR = "clusters/homelab/apps/media/sonarr/deployment.yaml";

/** One test per curl command in the seed guide, pointed at localhost. */
describe("the seed guide's curl examples", () => {
  let server: DemoServer;
  beforeEach(async () => {
    server = await startDemoServer();
  });
  afterEach(async () => {
    await server.close();
  });

  const call = async (method: string, path: string) => {
    const res = await fetch(`${server.url}${path}`, { method });
    return {
      status: res.status,
      headers: res.headers,
      body: (await res.json()) as Record<string, unknown>,
    };
  };

  it("curl /api/services lists the configured services", async () => {
    const { status, body } = await call("GET", "/api/services");
    expect(status).toBe(200);
    expect(body.services).toEqual([
      expect.objectContaining({ name: "radarr", namespace: "media", deployment: "radarr" }),
      expect.objectContaining({
        name: "sonarr",
        volume_name: "sonarr-data",
        primary_pvc: "pvc-sonarr",
        backup_pvc: "pvc-sonarr-backup",
        primary_node_label: "primary",
        backup_node_label: "backup",
      }),
    ]);
  });

  it("curl -X POST .../sonarr/promote makes exactly one commit changing only node and claim", async () => {
    const before = commitCount(server.repoDir);
    const original = fileAt(server.repoDir, "main", SONARR);
    const { status, body } = await call("POST", "/api/failover/sonarr/promote");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      outcome: "applied",
      service: "sonarr",
      from: "primary",
      to: "backup",
    });
    expect(commitCount(server.repoDir)).toBe(before + 1);
    expect(lastCommitChangedLines(server.repoDir)).toEqual([
      "-        role: primary",
      "+        role: backup",
      "-            claimName: pvc-sonarr",
      "+            claimName: pvc-sonarr-backup",
    ]);
    const sha = (body.commit as { sha: string }).sha;
    expect(git(server.repoDir, "rev-parse", "main").trim()).toBe(sha);
    expect(git(server.repoDir, "log", "-1", "--format=%B", "main")).toMatch(
      /Failover-Service: sonarr\nFailover-Action: promote\n/,
    );
    // The demo's working tree follows, so `cat` in the demo repo shows the change.
    expect(git(server.repoDir, "status", "--porcelain")).toBe("");
    expect(fileAt(server.repoDir, "main", SONARR)).not.toBe(original);
  });

  it("a second promote is a no-op and makes no commit", async () => {
    await call("POST", "/api/failover/sonarr/promote");
    const after = commitCount(server.repoDir);
    const { status, body } = await call("POST", "/api/failover/sonarr/promote");
    expect(status).toBe(200);
    expect(body).toMatchObject({ outcome: "no_op", from: "backup", to: "backup" });
    expect(commitCount(server.repoDir)).toBe(after);
  });

  it("curl -X POST .../sonarr/demote restores the file byte for byte", async () => {
    const original = fileAt(server.repoDir, "main", SONARR);
    await call("POST", "/api/failover/sonarr/promote");
    const { status, body } = await call("POST", "/api/failover/sonarr/demote");
    expect(status).toBe(200);
    expect(body).toMatchObject({ outcome: "applied", from: "backup", to: "primary" });
    expect(fileAt(server.repoDir, "main", SONARR)).toBe(original);
  });

  it("curl .../sonarr/promote?dry-run=true (GET) returns the plan and writes nothing", async () => {
    const before = git(server.repoDir, "rev-parse", "main");
    const { status, body } = await call("GET", "/api/failover/sonarr/promote?dry-run=true");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      outcome: "dry_run",
      dry_run: true,
      from: "primary",
      to: "backup",
    });
    expect(body.diff).toContain("-        role: primary\n+        role: backup");
    expect(body.diff).toContain("+            claimName: pvc-sonarr-backup");
    expect(git(server.repoDir, "rev-parse", "main")).toBe(before);
  });

  it("a POST dry run writes nothing either", async () => {
    const before = git(server.repoDir, "rev-parse", "main");
    const { status, body } = await call("POST", "/api/failover/sonarr/demote?dry-run=true");
    expect(status).toBe(200);
    expect(body).toMatchObject({ outcome: "dry_run", from: "primary", to: "primary", diff: "" });
    expect(git(server.repoDir, "rev-parse", "main")).toBe(before);
  });

  it("curl .../sonarr/status reports the state read from the manifest", async () => {
    expect((await call("GET", "/api/failover/sonarr/status")).body).toMatchObject({
      service: "sonarr",
      state: "primary",
      observed: { nodes: ["primary"], claims: ["pvc-sonarr"] },
      paths: [SONARR],
    });
    await call("POST", "/api/failover/sonarr/promote");
    expect((await call("GET", "/api/failover/sonarr/status")).body).toMatchObject({
      state: "backup",
      observed: { nodes: ["backup"], claims: ["pvc-sonarr-backup"] },
    });
  });

  it("curl /api/health answers { status: ok }", async () => {
    const { status, body } = await call("GET", "/api/health");
    expect(status).toBe(200);
    expect(body).toEqual({ status: "ok" });
  });
});
