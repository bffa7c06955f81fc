import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentsState } from "../fake-github/routes/deployments.js";
import { demoFiles } from "../helpers/github-app-server.js";
import {
  type AutomationServer,
  alertPayload,
  fluxEvent,
  startAutomationServer,
  startSink,
} from "./automation-server.js";

type Json = Record<string, unknown>;

function optInBoth(demo: string): string {
  return `nodes:\n  k3s-w1: primary\n${demo.replaceAll(
    "    backup_node_label: backup\n",
    "    backup_node_label: backup\n    auto_failover: true\n",
  )}`;
}

/** A Flux Kustomization as a homelab repository keeps it (one file per app, and the root). */
function fluxKustomization(name: string, path: string): string {
  return [
    "apiVersion: kustomize.toolkit.fluxcd.io/v1",
    "kind: Kustomization",
    "metadata:",
    `  name: ${name}`,
    "  namespace: flux-system",
    "spec:",
    "  interval: 10m",
    `  path: ${path}`,
    "  prune: true",
    "  wait: true",
    "  sourceRef:",
    "    kind: GitRepository",
    "    name: flux-system",
    "",
  ].join("\n");
}

/** The demo repository with each app applied by its own Kustomization, under a root one. */
function filesWithKustomizations(): Record<string, string> {
  return {
    ...demoFiles(),
    "clusters/homelab/flux/flux-system.yaml": fluxKustomization(
      "flux-system",
      "./clusters/homelab",
    ),
    "clusters/homelab/flux/apps/sonarr.yaml": fluxKustomization(
      "sonarr",
      "./clusters/homelab/apps/media/sonarr",
    ),
    "clusters/homelab/flux/apps/radarr.yaml": fluxKustomization(
      "radarr",
      "./clusters/homelab/apps/media/radarr",
    ),
  };
}

describe("closed loop: a node-wide operation needs every app's Kustomization (GitHub mode, as serve composes it)", () => {
  let server: AutomationServer;
  let sink: Awaited<ReturnType<typeof startSink>>;
  beforeAll(async () => {
    sink = await startSink();
    server = await startAutomationServer(
      optInBoth,
      { FAILOVER_NOTIFY: `generic+${sink.url}/notify` },
      { github: true, composed: true, files: filesWithKustomizations() },
    );
  });
  afterAll(async () => {
    await server?.close();
    await sink?.close();
  });

  it("sonarr's success confirms nothing, radarr's failure fails it: operation failed, Deployment failure, no ✅", async () => {
    const fake = server.fake;
    if (fake === undefined) throw new Error("GitHub mode expected");
    const res = await server.alert(
      alertPayload({ node: "k3s-w1", startsAt: new Date(Date.now() - 10 * 60_000) }),
    );
    const [outcome] = ((await res.json()) as { alerts: Json[] }).alerts;
    expect(outcome).toMatchObject({ result: "applied", services: ["radarr", "sonarr"] });
    const sha = String((outcome?.commit as { sha?: string } | undefined)?.sha);
    const operation = String(outcome?.operation);
    await server.runtime.background.idle();
    const deployment = () => deploymentsState({ fake: fake.context })[0];
    expect(deployment()?.statuses.map((s) => s.state)).toEqual(["in_progress"]);
    const status = async () => {
      const got = await fetch(`${server.url}/api/operations/${operation}`);
      return ((await got.json()) as { operation: Json }).operation;
    };

    // The root Kustomization and sonarr's own both succeed: radarr has not spoken yet.
    for (const name of ["flux-system", "sonarr"]) {
      const sent = await server.fluxEvent(fluxEvent({ name, revision: sha }));
      expect(((await sent.json()) as { operations: string[] }).operations).toEqual([]);
    }
    await server.runtime.background.idle();
    expect((await status()).status).toBe("committed");
    expect(deployment()?.statuses.map((s) => s.state)).toEqual(["in_progress"]);

    const failed = await server.fluxEvent(
      fluxEvent({
        name: "radarr",
        revision: sha,
        severity: "error",
        reason: "HealthCheckFailed",
        message: "Health check failed after 5m0s: timeout waiting for: [Deployment/media/radarr]",
      }),
    );
    expect(((await failed.json()) as { operations: string[] }).operations).toEqual([operation]);
    await server.runtime.background.idle();
    expect(await status()).toMatchObject({
      status: "failed",
      flux: { kustomization: "flux-system/radarr", revision: sha },
    });
    expect(deployment()?.statuses.map((s) => s.state)).toEqual(["in_progress", "failure"]);

    // A later success is too late: failed is final.
    await server.fluxEvent(fluxEvent({ name: "radarr", revision: sha }));
    expect((await status()).status).toBe("failed");
    await server.runtime.automation?.notifier.flush();
    const types = sink.received.map((r) => (JSON.parse(r.body) as Json).type);
    expect(types).toContain("failed");
    expect(types).not.toContain("confirmed");
  });
});
