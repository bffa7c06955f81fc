import { describe, expect, it } from "vitest";
import { claimUsers } from "../../../src/domain/targets/claim-users.js";
import { shape } from "./shapes.js";

const SONARR = "kubernetes/apps/media/sonarr/app/helmrelease.yaml";
const CRON = "kubernetes/apps/media/sonarr/app/backup-cronjob.yaml";
const VOLSYNC = "kubernetes/apps/media/sonarr/volsync/replication.yaml";
const JELLYFIN = "raw/jellyfin-affinity.yaml";
const PLEX = "kubernetes/apps/media/plex/app/helmrelease.yaml";

const file = (path: string) => ({ path, text: shape(path) });

describe("claimUsers", () => {
  it("names every other object that uses a claim, one warning per use", () => {
    const warnings = claimUsers(
      ["pvc-sonarr", "pvc-sonarr-backup"],
      [file(SONARR), file(CRON), file(VOLSYNC)],
      [SONARR],
    );
    expect(warnings).toEqual([
      `${CRON}: CronJob sonarr-export uses claim pvc-sonarr (spec.jobTemplate.spec.template.spec.volumes[1].persistentVolumeClaim.claimName); failover does not change it.`,
      `${VOLSYNC}: ReplicationSource sonarr-primary uses claim pvc-sonarr (spec.sourcePVC); failover does not change it.`,
      `${VOLSYNC}: ReplicationDestination sonarr-standby uses claim pvc-sonarr-backup (spec.destinationPVC); failover does not change it.`,
    ]);
  });

  it("skips the target workload in an edited file but reports other objects there", () => {
    const warnings = claimUsers(["pvc-jellyfin"], [file(JELLYFIN)], [JELLYFIN]);
    expect(warnings).toEqual([
      `${JELLYFIN}: ReplicationSource jellyfin uses claim pvc-jellyfin (spec.sourcePVC); failover does not change it.`,
    ]);
    // Not an edited file: the Deployment is some other user of the claim.
    expect(claimUsers(["pvc-jellyfin"], [file(JELLYFIN)], [])).toHaveLength(2);
  });

  it("finds HelmRelease persistence, Pods and Jobs; ignores other claims and broken files", () => {
    const extra = {
      path: "other.yaml",
      text: `apiVersion: v1
kind: Pod
metadata: {name: debug}
spec:
  volumes: [{name: c, persistentVolumeClaim: {claimName: pvc-plex}}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: restore}
spec:
  template:
    spec:
      volumes: [{name: c, persistentVolumeClaim: {claimName: pvc-other}}]
`,
    };
    const broken = { path: "broken.yaml", text: "a: [\n" };
    const warnings = claimUsers(["pvc-plex"], [file(PLEX), extra, broken], []);
    expect(warnings).toEqual([
      `${PLEX}: HelmRelease plex uses claim pvc-plex (spec.values.persistence.config.existingClaim); failover does not change it.`,
      "other.yaml: Pod debug uses claim pvc-plex (spec.volumes[0].persistentVolumeClaim.claimName); failover does not change it.",
    ]);
    expect(claimUsers([], [file(PLEX)], [])).toEqual([]);
  });
});
