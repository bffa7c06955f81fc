import { describe, expect, it } from "vitest";
import { siblingScope, siblingsOf } from "../../../src/domain/manifest-path.js";
import {
  claimUsers,
  claimUsesIn,
  claimUseWarnings,
} from "../../../src/domain/targets/claim-users.js";
import { needsFileList } from "../../../src/domain/targets/related-files.js";

const TREE = [
  "kubernetes/apps/media/sonarr/ks.yaml",
  "kubernetes/apps/media/sonarr/app/helmrelease.yaml",
  "kubernetes/apps/media/sonarr/app/backup-cronjob.yaml",
  "kubernetes/apps/media/sonarr/volsync/replication.yaml",
  "kubernetes/apps/media/plex/app/helmrelease.yaml",
  "clusters/homelab/apps/media/radarr/deployment.yaml",
  "clusters/homelab/apps/media/radarr/volsync.yaml",
  "clusters/homelab/apps/media/radarr/sub/other.yaml",
  "clusters/homelab/apps/media/sonarr/deployment.yaml",
  "root.yaml",
];

describe("neighbours", () => {
  it("siblingScope lists the folder siblingsOf looks in: a listing of it alone finds the same", () => {
    for (const path of [
      "kubernetes/apps/media/sonarr/app/helmrelease.yaml",
      "clusters/homelab/apps/media/radarr/deployment.yaml",
      "root.yaml",
    ]) {
      const scope = siblingScope(path);
      const scoped = TREE.filter((f) => f.startsWith(scope));
      expect(siblingsOf(path, scoped)).toEqual(siblingsOf(path, TREE));
    }
    expect(siblingScope("kubernetes/apps/media/sonarr/app/helmrelease.yaml")).toBe(
      "kubernetes/apps/media/sonarr/",
    );
    expect(siblingScope("clusters/homelab/apps/media/radarr/deployment.yaml")).toBe(
      "clusters/homelab/apps/media/radarr/",
    );
    expect(siblingScope("root.yaml")).toBe("");
  });

  it("claim uses parsed once give the warnings parsing the text gives", () => {
    const file = {
      path: "apps/db/volsync.yaml",
      text: [
        "kind: ReplicationSource",
        "metadata: { name: db }",
        "spec: { sourcePVC: pvc-db }",
        "---",
        "kind: Deployment",
        "metadata: { name: db }",
        "spec:",
        "  template:",
        "    spec:",
        "      volumes: [{ name: d, persistentVolumeClaim: { claimName: pvc-db } }]",
      ].join("\n"),
    };
    const uses = claimUsesIn(file);
    expect(uses.map((u) => `${u.kind} ${u.name} ${u.claim}`)).toEqual([
      "ReplicationSource db pvc-db",
      "Deployment db pvc-db",
    ]);
    for (const exclude of [[], [file.path]]) {
      expect(claimUseWarnings(["pvc-db"], [{ path: file.path, uses }], exclude)).toEqual(
        claimUsers(["pvc-db"], [file], exclude),
      );
    }
    expect(claimUsesIn({ path: "bad.yaml", text: "a: [" })).toEqual([]);
  });

  it("needsFileList: only ${VAR} (in a target or what a failback restores) and chartRef", () => {
    const texts = new Map<string, string | null>([
      ["plain.yaml", "kind: Deployment\nspec: { replicas: 1 }\n"],
      ["vars.yaml", "kind: Deployment\nmetadata: { name: ${APP} }\n"],
      [
        "chart.yaml",
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: { name: x }\nspec:\n  chartRef: { kind: OCIRepository, name: app-template }\n",
      ],
    ]);
    expect(needsFileList({ targets: ["plain.yaml"], texts })).toBe(false);
    expect(needsFileList({ targets: ["missing.yaml"], texts })).toBe(false);
    expect(needsFileList({ targets: ["vars.yaml"], texts })).toBe(true);
    expect(needsFileList({ targets: ["chart.yaml"], texts })).toBe(true);
    expect(needsFileList({ targets: ["plain.yaml"], texts, restorable: "claim: ${CLAIM}" })).toBe(
      true,
    );
  });
});
