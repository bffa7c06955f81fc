import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubeReader } from "../../src/cluster/kube-reader.js";
import { type FakeKube, startFakeKube } from "../fake-kube/fake-kube.js";
import { commitCount } from "../helpers/git.js";
import { type AutomationServer, alertPayload, startAutomationServer } from "./automation-server.js";

type Outcome = {
  result: string;
  services: string[];
  heldBack: { guard: string; message: string }[];
};

function destination(lastSyncTime: string) {
  return {
    apiVersion: "volsync.backube/v1alpha1",
    kind: "ReplicationDestination",
    metadata: { name: "sonarr-dst", namespace: "media" },
    spec: { restic: { repository: "sonarr-volsync-secret", copyMethod: "Snapshot" } },
    status: {
      lastSyncTime,
      latestImage: {
        apiGroup: "snapshot.storage.k8s.io",
        kind: "VolumeSnapshot",
        name: "volsync-sonarr-dst-dest",
      },
    },
  };
}

describe("the RPO gate holds back an automatic promote onto a stale backup", () => {
  let kube: FakeKube;
  let server: AutomationServer;
  beforeAll(async () => {
    kube = await startFakeKube();
    kube.state.nodes = [{ name: "k3s-w2", labels: { role: "backup" }, ready: "True" }];
    server = await startAutomationServer(
      (demo) =>
        demo.replace(
          "    backup_node_label: backup\n",
          "    backup_node_label: backup\n    auto_failover: true\n    max_rpo: 15m\n",
        ),
      {},
      { kube: kubeReader({ baseUrl: kube.url, token: kube.token }) },
    );
  });
  afterAll(async () => {
    await server?.close();
    await kube?.close();
  });

  it("an hour-old copy: held back (max_rpo), nothing written; once it syncs, the retry promotes", async () => {
    kube.state.replicationDestinations.media = [
      destination(new Date(Date.now() - 3600_000).toISOString()),
    ];
    const payload = alertPayload({ node: "primary", startsAt: new Date(Date.now() - 5 * 60_000) });
    const before = commitCount(server.repoDir);
    const [held] = ((await (await server.alert(payload)).json()) as { alerts: Outcome[] }).alerts;
    expect(held?.result).toBe("held_back");
    expect(held?.heldBack.map((h) => h.guard)).toEqual(["max_rpo"]);
    expect(held?.heldBack[0]?.message).toContain("no automatic promote");
    expect(commitCount(server.repoDir)).toBe(before);

    kube.state.replicationDestinations.media = [
      destination(new Date(Date.now() - 60_000).toISOString()),
    ];
    const [moved] = ((await (await server.alert(payload)).json()) as { alerts: Outcome[] }).alerts;
    expect(moved).toMatchObject({ result: "applied", services: ["sonarr"] });
    expect(commitCount(server.repoDir)).toBe(before + 1);
  });
});
