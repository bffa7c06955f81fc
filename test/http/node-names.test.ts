import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWiringServer, type WiringServer } from "../automation/wiring-server.js";
import { commitCount, fileAt, git } from "../helpers/git.js";

type Json = Record<string, unknown>;
type NodeAnswer = {
  outcome: string;
  node: string;
  services: { service: string; result: string }[];
  commit?: { sha: string };
};

const SONARR = "clusters/homelab/apps/media/sonarr/deployment.yaml";

/** The Kubernetes node k3s-w1 carries the `primary` placement; k3s-w2 `backup`. */
const withNodes = (demo: string) => `nodes:\n  k3s-w1: primary\n  k3s-w2: backup\n${demo}`;

describe("/api/nodes/<name>/...: a Kubernetes node name of `nodes:` or a placement value", () => {
  let server: WiringServer;
  beforeAll(async () => {
    server = await startWiringServer(withNodes);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("a dry run by node name plans the services of its placement value, writes nothing", async () => {
    const before = commitCount(server.repoDir);
    const res = await server.request("GET", "/api/nodes/k3s-w1/promote?dry-run=true");
    expect(res.status).toBe(200);
    const body = (await res.json()) as NodeAnswer;
    expect(body.outcome).toBe("dry_run");
    expect(body.node).toBe("primary");
    expect(body.services.map((s) => [s.service, s.result])).toEqual([
      ["radarr", "changed"],
      ["sonarr", "changed"],
    ]);
    expect(commitCount(server.repoDir)).toBe(before);
  });

  it("POST by node name moves them in one commit; the placement value then finds it done", async () => {
    const before = commitCount(server.repoDir);
    const res = await server.request("POST", "/api/nodes/k3s-w1/promote");
    expect(res.status).toBe(200);
    const body = (await res.json()) as NodeAnswer;
    expect(body).toMatchObject({ outcome: "applied", node: "primary" });
    expect(commitCount(server.repoDir)).toBe(before + 1);
    expect(git(server.repoDir, "log", "-1", "--format=%B", "main")).toContain(
      "failover(node primary): promote 2 services to backup",
    );
    expect(fileAt(server.repoDir, "main", SONARR)).toContain("claimName: pvc-sonarr-backup");

    const again = await server.request("POST", "/api/nodes/primary/promote");
    expect(((await again.json()) as NodeAnswer).outcome).toBe("no_op");
    expect(commitCount(server.repoDir)).toBe(before + 1);
  });

  it("a node name that is neither in `nodes:` nor a placement value is a 404, nothing written", async () => {
    const before = commitCount(server.repoDir);
    const res = await server.request("POST", "/api/nodes/k3s-w9/demote");
    expect(res.status).toBe(404);
    const { error } = (await res.json()) as { error: Json };
    expect(error.code).toBe("not_found");
    expect(error.message).toContain('"k3s-w9"');
    // k3s-w2 maps to `backup`, which is no service's primary.
    expect((await server.request("POST", "/api/nodes/k3s-w2/demote")).status).toBe(404);
    expect(commitCount(server.repoDir)).toBe(before);
  });

  it("demote by node name brings them back", async () => {
    const res = await server.request("POST", "/api/nodes/k3s-w1/demote");
    expect(res.status).toBe(200);
    expect((await res.json()) as NodeAnswer).toMatchObject({ outcome: "applied", node: "primary" });
    expect(fileAt(server.repoDir, "main", SONARR)).toContain("claimName: pvc-sonarr\n");
  });
});
