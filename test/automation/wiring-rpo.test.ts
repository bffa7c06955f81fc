import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubeReader } from "../../src/cluster/kube-reader.js";
import { commandFromComment } from "../../src/domain/commands/from-comment.js";
import { FailoverError } from "../../src/domain/errors.js";
import { runCommand } from "../../src/failover/run-command.js";
import { type FakeKube, startFakeKube } from "../fake-kube/fake-kube.js";
import { commitCount, fileAt } from "../helpers/git.js";
import { startWiringServer, type WiringServer } from "./wiring-server.js";

type Json = Record<string, unknown>;
type Rpo = { seconds: number | null; message: string };
type Answer = {
  outcome: string;
  rpo?: Rpo;
  warnings: string[];
  services: { service: string; result: string; rpo?: Rpo; message?: string }[];
};

const SONARR = "clusters/homelab/apps/media/sonarr/deployment.yaml";
const RADARR = "clusters/homelab/apps/media/radarr/deployment.yaml";

/** A restic ReplicationDestination as VolSync reports it. */
function destination(name: string, lastSyncTime: string) {
  return {
    apiVersion: "volsync.backube/v1alpha1",
    kind: "ReplicationDestination",
    metadata: { name, namespace: "media" },
    spec: { restic: { repository: `${name}-volsync-secret`, copyMethod: "Snapshot" } },
    status: {
      lastSyncTime,
      latestImage: {
        apiGroup: "snapshot.storage.k8s.io",
        kind: "VolumeSnapshot",
        name: `volsync-${name}-dest`,
      },
    },
  };
}

/** sonarr may lose at most 15 minutes; radarr sets no max_rpo. */
const withMaxRpo = (demo: string) =>
  demo.replace(
    "    backup_pvc: pvc-sonarr-backup\n",
    "    backup_pvc: pvc-sonarr-backup\n    max_rpo: 15m\n",
  );

describe("the RPO gate before a manual promote, over HTTP, with a fake Kubernetes API", () => {
  let kube: FakeKube;
  let server: WiringServer;
  beforeAll(async () => {
    kube = await startFakeKube();
    kube.state.nodes = [{ name: "k3s-w2", labels: { role: "backup" }, ready: "True" }];
    kube.state.replicationDestinations.media = [
      destination("sonarr-dst", new Date(Date.now() - 3600_000).toISOString()),
      destination("radarr-dst", new Date(Date.now() - 3600_000).toISOString()),
    ];
    server = await startWiringServer(withMaxRpo, {
      kube: kubeReader({ baseUrl: kube.url, token: kube.token }),
    });
  });
  afterAll(async () => {
    await server?.close();
    await kube?.close();
  });

  it("the dry run shows the data-loss window and the refusal to come; nothing written", async () => {
    const before = commitCount(server.repoDir);
    const res = await server.request("GET", "/api/failover/sonarr/promote?dry-run=true");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Answer;
    expect(body.outcome).toBe("dry_run");
    expect(body.rpo?.seconds).toBeGreaterThanOrEqual(3600);
    expect(body.rpo?.message).toContain("max_rpo is 900 s");
    expect(body.warnings.some((w) => w.includes("accept_data_loss=true"))).toBe(true);
    expect(commitCount(server.repoDir)).toBe(before);
    expect(kube.requests.some((r) => r.path.includes("replicationdestinations"))).toBe(true);
  });

  it("refuses a promote onto a copy older than max_rpo (422), nothing written", async () => {
    const before = commitCount(server.repoDir);
    const res = await server.request("POST", "/api/failover/sonarr/promote");
    expect(res.status).toBe(422);
    const { error } = (await res.json()) as { error: Json & { details: { rpo: Rpo } } };
    expect(error.code).toBe("refused");
    expect(error.message).toContain("repeat with accept_data_loss=true");
    expect(error.details.rpo.seconds).toBeGreaterThanOrEqual(3600);
    // ?wait=false is refused the same way: the gate runs before anything is planned.
    expect((await server.request("POST", "/api/failover/sonarr/promote?wait=false")).status).toBe(
      422,
    );
    expect(commitCount(server.repoDir)).toBe(before);
    expect(fileAt(server.repoDir, "main", SONARR)).toContain("claimName: pvc-sonarr\n");
  });

  it("a node-wide promote moves the services the gate lets through and reports the refused one", async () => {
    const before = commitCount(server.repoDir);
    const res = await server.request("POST", "/api/nodes/primary/promote");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Answer;
    expect(body.outcome).toBe("applied");
    const rows = Object.fromEntries(body.services.map((s) => [s.service, s]));
    expect(rows.radarr).toMatchObject({ result: "changed" });
    expect(rows.radarr?.rpo?.message).toContain("up to that much data is lost");
    expect(rows.sonarr).toMatchObject({ result: "refused" });
    expect(rows.sonarr?.message).toContain("accept_data_loss=true");
    expect(commitCount(server.repoDir)).toBe(before + 1);
    expect(fileAt(server.repoDir, "main", RADARR)).toContain("claimName: pvc-radarr-backup");
    expect(fileAt(server.repoDir, "main", SONARR)).toContain("claimName: pvc-sonarr\n");
  });

  it("accept_data_loss=true (query or body) promotes, and the answer says what was accepted", async () => {
    const strict = await server.request("POST", "/api/failover/sonarr/promote?accept_data_loss=1");
    expect(strict.status).toBe(400);
    const before = commitCount(server.repoDir);
    const res = await server.request("POST", "/api/failover/sonarr/promote", {
      accept_data_loss: true,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Answer;
    expect(body.outcome).toBe("applied");
    expect(body.rpo?.message).toContain("accepted (accept_data_loss=true)");
    expect(commitCount(server.repoDir)).toBe(before + 1);
    expect(fileAt(server.repoDir, "main", SONARR)).toContain("claimName: pvc-sonarr-backup");
  });

  it("a demote is not gated (no RPO in its answer)", async () => {
    const res = await server.request("POST", "/api/failover/sonarr/demote");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Answer;
    expect(body.outcome).toBe("applied");
    expect(body.rpo).toBeUndefined();
  });

  it("a ChatOps command reaches the same gate; --accept-data-loss overrides it", async () => {
    const origin = { trigger: "chatops", requester: "alice", requestId: "c-1" } as const;
    const refused = commandFromComment("/failover sonarr promote", origin);
    if (refused === null) throw new Error("no command");
    const error = await runCommand(server.runtime.ctx, refused).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailoverError);
    expect((error as FailoverError).code).toBe("refused");
    const accepted = commandFromComment("/failover sonarr promote --accept-data-loss", {
      ...origin,
      requestId: "c-2",
    });
    if (accepted?.kind !== "failover") throw new Error("no failover command");
    const { result } = await runCommand(server.runtime.ctx, accepted);
    expect(result.outcome).toBe("applied");
    expect(result.rpo?.message).toContain("accepted (accept_data_loss=true)");
    expect((await server.request("POST", "/api/failover/sonarr/demote")).status).toBe(200);
  });

  it("a fresh copy promotes without the override", async () => {
    kube.state.replicationDestinations.media = [
      destination("sonarr-dst", new Date(Date.now() - 60_000).toISOString()),
    ];
    const res = await server.request("POST", "/api/failover/sonarr/promote");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Answer;
    expect(body.outcome).toBe("applied");
    expect(body.rpo?.seconds).toBeLessThan(900);
  });
});

describe("without cluster access", () => {
  let server: WiringServer;
  beforeAll(async () => {
    server = await startWiringServer(withMaxRpo, { kube: undefined });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('says "RPO unknown" and never refuses', async () => {
    const res = await server.request("POST", "/api/failover/sonarr/promote");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Answer;
    expect(body.outcome).toBe("applied");
    expect(body.rpo).toEqual({ seconds: null, message: "RPO unknown: no cluster access" });
  });
});
