import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubeReader } from "../../src/cluster/kube-reader.js";
import { type RpoService, rpoCheck } from "../../src/cluster/rpo-check.js";
import { type FakeKube, startFakeKube } from "../fake-kube/fake-kube.js";

const NOW = Date.parse("2026-12-02T02:00:00Z");
const SONARR: RpoService = {
  name: "sonarr",
  namespace: "media",
  backupNodeSelector: "role=backup",
  maxRpoMs: 15 * 60_000,
};

/** A VolSync restic ReplicationDestination as the operator reports it. */
function resticDestination(name: string, lastSync: string) {
  return {
    apiVersion: "volsync.backube/v1alpha1",
    kind: "ReplicationDestination",
    metadata: { name, namespace: "media", uid: "0b1c2d3e-0000-4000-8000-000000000001" },
    spec: {
      trigger: { schedule: "*/10 * * * *" },
      restic: {
        repository: `${name}-volsync-secret`,
        copyMethod: "Snapshot",
        accessModes: ["ReadWriteOnce"],
        capacity: "10Gi",
        storageClassName: "local-path",
      },
    },
    status: {
      lastSyncTime: lastSync,
      lastSyncDuration: "12.345s",
      lastSyncStartTime: lastSync,
      latestImage: {
        apiGroup: "snapshot.storage.k8s.io",
        kind: "VolumeSnapshot",
        name: `volsync-${name}-dest-20261202014500`,
      },
      conditions: [
        {
          type: "Synchronizing",
          status: "False",
          reason: "WaitingForSchedule",
          message: "Waiting for next scheduled synchronization",
          lastTransitionTime: lastSync,
        },
      ],
    },
  };
}

const syncthingDestination = {
  apiVersion: "volsync.backube/v1alpha1",
  kind: "ReplicationDestination",
  metadata: { name: "sonarr", namespace: "media" },
  spec: { syncthing: { peers: [], serviceType: "ClusterIP" } },
  status: { conditions: [{ type: "Synchronizing", status: "True", reason: "SyncInProgress" }] },
};

describe("RPO gate against a fake Kubernetes API over TLS (self-signed CA, bearer token)", () => {
  let kube: FakeKube;
  const manual = { now: NOW, automatic: false, acceptDataLoss: false };
  beforeAll(async () => {
    kube = await startFakeKube({ https: true });
    kube.state.nodes = [
      { name: "k3s-w2", labels: { role: "backup" }, ready: "True" },
      { name: "k3s-w1", labels: { role: "primary" }, ready: "Unknown" },
    ];
  });
  afterAll(() => kube?.close());
  const reader = () => kubeReader({ baseUrl: kube.url, token: kube.token, ca: kube.ca });

  it("a copy within max_rpo: allowed, with the data-loss window and the node's readiness", async () => {
    kube.state.replicationDestinations.media = [
      resticDestination("sonarr-dst", "2026-12-02T01:50:00Z"),
    ];
    const report = await rpoCheck(SONARR, { ...manual, kube: reader() });
    expect(report).toMatchObject({ allowed: true, rpoSeconds: 600 });
    expect(report.facts).toMatchObject({
      backupNodeReady: true,
      latestImage: "volsync-sonarr-dst-dest-20261202014500",
    });
    expect(kube.requests.every((r) => r.authorization === `Bearer ${kube.token}`)).toBe(true);
  });

  it("an older copy: a manual promote is refused unless it accepts the loss; automation never", async () => {
    kube.state.replicationDestinations.media = [
      resticDestination("sonarr", "2026-12-02T01:00:00Z"),
    ];
    const refused = await rpoCheck(SONARR, { ...manual, kube: reader() });
    expect(refused).toMatchObject({ allowed: false, rpoSeconds: 3600 });
    expect(refused.message).toContain("accept_data_loss=true");
    const accepted = await rpoCheck(SONARR, { ...manual, acceptDataLoss: true, kube: reader() });
    expect(accepted.allowed).toBe(true);
    const auto = await rpoCheck(SONARR, {
      ...manual,
      automatic: true,
      acceptDataLoss: true,
      kube: reader(),
    });
    expect(auto.allowed).toBe(false);
  });

  it("the Syncthing mover has no lastSyncTime: RPO unknown, allowed", async () => {
    kube.state.replicationDestinations.media = [syncthingDestination];
    const report = await rpoCheck(SONARR, { ...manual, kube: reader() });
    expect(report).toMatchObject({ allowed: true, rpoSeconds: undefined });
    expect(report.message).toBe("RPO unknown: the Syncthing mover reports no lastSyncTime");
  });

  it("automation does not promote onto a backup node that is not Ready", async () => {
    kube.state.replicationDestinations.media = [
      resticDestination("sonarr", "2026-12-02T01:59:00Z"),
    ];
    const report = await rpoCheck(
      { ...SONARR, backupNodeSelector: "role=primary" },
      { ...manual, automatic: true, kube: reader() },
    );
    expect(report).toMatchObject({ allowed: false });
    expect(report.facts.backupNodeReady).toBe(false);
  });

  it("a wrong token or a CA the server does not match: RPO unknown, never a refusal", async () => {
    const wrongToken = kubeReader({ baseUrl: kube.url, token: "nope", ca: kube.ca });
    expect((await rpoCheck(SONARR, { ...manual, kube: wrongToken })).message).toBe(
      "RPO unknown: cannot read VolSync ReplicationDestinations",
    );
    const noCa = kubeReader({ baseUrl: kube.url, token: kube.token });
    expect((await rpoCheck(SONARR, { ...manual, kube: noCa })).allowed).toBe(true);
  });

  it("an unknown age never lets automation promote a service bounded by max_rpo", async () => {
    kube.state.replicationDestinations.media = [syncthingDestination];
    const bounded = { ...SONARR, maxRpoMs: 3_600_000 };
    const syncthing = await rpoCheck(bounded, { ...manual, automatic: true, kube: reader() });
    expect(syncthing.allowed).toBe(false);
    expect(syncthing.message).toMatch(/RPO unknown .*max_rpo is set: no automatic promote/);
    const wrongToken = kubeReader({ baseUrl: kube.url, token: "nope", ca: kube.ca });
    const unreadable = await rpoCheck(bounded, { ...manual, automatic: true, kube: wrongToken });
    expect(unreadable.allowed).toBe(false);
    // A person is told the RPO is unknown and may go ahead.
    expect((await rpoCheck(bounded, { ...manual, kube: reader() })).allowed).toBe(true);
  });

  it("without cluster access: RPO unknown, everything as before", async () => {
    const report = await rpoCheck(SONARR, { ...manual, kube: undefined });
    expect(report).toMatchObject({ allowed: true, message: "RPO unknown: no cluster access" });
  });
});
