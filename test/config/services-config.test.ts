import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseServicesConfig } from "../../src/config/services-config.js";
import { FailoverError } from "../../src/domain/errors.js";
import { hasSharedFixture, SHARED_FIXTURE, SHARED_NOTE } from "../helpers/shared-fixture.js";

const SEED_SERVICES = `services:
  sonarr:
    namespace: media
    deployment: sonarr
    volume_name: sonarr-data          # Must match pod spec exactly
    primary_pvc: pvc-sonarr
    backup_pvc: pvc-sonarr-backup
    primary_node_label: primary
    backup_node_label: backup

  radarr:  # Add new services here
    namespace: media
    deployment: radarr
    volume_name: radarr-data
    primary_pvc: pvc-radarr
    backup_pvc: pvc-radarr-backup
    primary_node_label: primary
    backup_node_label: backup
`;

function configError(text: string): FailoverError {
  try {
    parseServicesConfig(text, "services.yaml");
  } catch (error) {
    if (error instanceof FailoverError) return error;
    throw error;
  }
  throw new Error("expected a config error");
}

describe("parseServicesConfig", () => {
  it("loads the seed guide's example exactly as written", () => {
    const config = parseServicesConfig(SEED_SERVICES, "services.yaml");
    expect([...config.services.keys()]).toEqual(["sonarr", "radarr"]);
    expect(config.services.get("sonarr")).toEqual({
      name: "sonarr",
      namespace: "media",
      nodes: { primary: "primary", backup: "backup" },
      targets: [
        {
          type: "workload",
          path: undefined,
          workload: {
            name: "sonarr",
            namespace: "media",
            volumeName: "sonarr-data",
            nodeLabelKey: "role",
            primary: { claim: "pvc-sonarr", node: "primary" },
            backup: { claim: "pvc-sonarr-backup", node: "backup" },
          },
        },
      ],
    });
  });

  it.skipIf(!hasSharedFixture)(
    `loads the real homelab ConfigMap's services.yaml unchanged${SHARED_NOTE}`,
    () => {
      const configMap = parse(
        readFileSync(
          join(SHARED_FIXTURE, "clusters/homelab/operations/failover-api/configmap.yaml"),
          "utf8",
        ),
      ) as { data: { "services.yaml": string } };
      const config = parseServicesConfig(configMap.data["services.yaml"], "configmap");
      expect([...config.services.keys()]).toEqual(["sonarr"]);
      const [target] = config.services.get("sonarr")?.targets ?? [];
      expect(target?.type === "workload" && target.workload.volumeName).toBe("sonarr-data");
    },
  );

  it("accepts key=value node labels, a path, a kind, a mode and file defaults", () => {
    const config = parseServicesConfig(
      `defaults:
  mode: pr
services:
  plex:
    namespace: media
    deployment: plex
    volume_name: config
    primary_pvc: plex-a
    backup_pvc: plex-b
    primary_node_label: kubernetes.io/hostname=k3s-w1
    backup_node_label: kubernetes.io/hostname=k3s-w2
    path: apps/plex/app.yaml
    kind: StatefulSet
`,
      "x",
    );
    const plex = config.services.get("plex");
    expect(plex?.nodes).toEqual({ primary: "k3s-w1", backup: "k3s-w2" });
    expect(plex?.targets[0]).toMatchObject({
      type: "workload",
      path: "apps/plex/app.yaml",
      workload: {
        kind: "StatefulSet",
        nodeLabelKey: "kubernetes.io/hostname",
        primary: { node: "k3s-w1" },
        backup: { node: "k3s-w2" },
      },
    });
    expect(config.modes.get("plex")).toBe("pr");
  });

  it("accepts an empty services map", () => {
    expect(parseServicesConfig("services:\n", "x").services.size).toBe(0);
  });

  it.each([
    [
      "missing field",
      SEED_SERVICES.replace("    primary_pvc: pvc-sonarr\n", ""),
      /services\.sonarr\.primary_pvc/,
    ],
    [
      "unknown field (typo)",
      SEED_SERVICES.replace("backup_pvc: pvc-radarr-backup", "backup_pvcs: x"),
      /services\.radarr.*backup_pvcs/,
    ],
    [
      "bad service name",
      SEED_SERVICES.replace("  sonarr:", "  Sonarr:"),
      /services\.Sonarr.*lowercase DNS/,
    ],
    [
      "number instead of string",
      SEED_SERVICES.replace("namespace: media", "namespace: 12"),
      /services\.sonarr\.namespace/,
    ],
    [
      "same claims",
      SEED_SERVICES.replace("backup_pvc: pvc-sonarr-backup", "backup_pvc: pvc-sonarr"),
      /services\.sonarr\.backup_pvc: must differ/,
    ],
    [
      "same nodes",
      SEED_SERVICES.replace("backup_node_label: backup\n\n", "backup_node_label: primary\n\n"),
      /services\.sonarr\.backup_node_label: must differ/,
    ],
    [
      "different label keys",
      SEED_SERVICES.replace("backup_node_label: backup\n\n", "backup_node_label: zone=b\n\n"),
      /label key "zone" differs/,
    ],
    [
      "path traversal",
      SEED_SERVICES.replace(
        "    backup_node_label: backup\n\n",
        "    backup_node_label: backup\n    path: ../etc/passwd\n\n",
      ),
      /services\.sonarr\.path/,
    ],
    ["no services key", "sonarr: {}\n", /services/],
    ["not YAML", "services: [\n", /not valid YAML/],
    ["duplicate keys", `${SEED_SERVICES}  sonarr:\n    namespace: x\n`, /not valid YAML/],
    [
      "alias bomb",
      `a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\nservices: {}\n`,
      /not valid YAML|alias/i,
    ],
  ])("rejects %s with a message naming the field", (_name, text, pattern) => {
    const error = configError(text);
    expect(error.code).toBe("config_invalid");
    expect(error.message).toMatch(pattern);
    expect(error.message.startsWith("services.yaml: ")).toBe(true);
  });

  it("rejects oversized files", () => {
    expect(configError(`# ${"x".repeat(300_000)}\nservices: {}\n`).message).toMatch(/larger than/);
  });
});

describe("automation settings (docs/automation.md)", () => {
  const withAutomation = `nodes:
  k3s-w1: primary
  k3s-w2: backup
automation:
  auto_failover_after: 90s
  cooldown: 1h
${SEED_SERVICES.replace(
  "    backup_node_label: backup\n",
  "    backup_node_label: backup\n    auto_failover: true\n    auto_failback: true\n    auto_failback_after: 1h30m\n    max_rpo: 15m\n",
)}`;

  it("reads nodes:, the automation block and each service's opt-in, with defaults", async () => {
    const { automationSettings, resolveNodeName, serviceAutomation } = await import(
      "../../src/config/automation-config.js"
    );
    const config = parseServicesConfig(withAutomation, "services.yaml");
    expect(automationSettings(config)).toEqual({
      alertNames: ["KubeNodeNotReady", "KubeNodeUnreachable"],
      nodeLabel: "node",
      autoFailoverAfterMs: 90_000,
      cooldownMs: 3_600_000,
      autoFailbackAfterMs: 600_000,
    });
    expect(serviceAutomation(config, "sonarr")).toEqual({
      autoFailover: true,
      autoFailback: true,
      autoFailbackAfterMs: 5_400_000,
      cooldownMs: 3_600_000,
      maxRpoMs: 900_000,
    });
    expect(serviceAutomation(config, "radarr").autoFailover).toBe(false);
    expect(resolveNodeName(config, "k3s-w1")).toBe("primary");
    expect(resolveNodeName(config, "primary")).toBe("primary");
    expect(resolveNodeName(config, "constructor")).toBe("constructor");
  });

  it.each([
    [
      "a bad duration",
      withAutomation.replace("cooldown: 1h", "cooldown: 1 hour"),
      "automation.cooldown",
    ],
    [
      "an unknown automation key",
      withAutomation.replace("cooldown: 1h", "colldown: 1h"),
      "colldown",
    ],
    [
      "a non-boolean opt-in",
      withAutomation.replace("auto_failover: true", "auto_failover: yes please"),
      "auto_failover",
    ],
    [
      "an empty node label value",
      withAutomation.replace("k3s-w1: primary", 'k3s-w1: ""'),
      "nodes.k3s-w1",
    ],
  ])("refuses %s", (_what, text, where) => {
    expect(configError(text).message).toContain(where);
  });
});
