import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentsState } from "../fake-github/routes/deployments.js";
import { commitCount, git } from "../helpers/git.js";
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

describe("closed loop in GitHub mode, on the fake GitHub", () => {
  let server: AutomationServer;
  let sink: Awaited<ReturnType<typeof startSink>>;
  beforeAll(async () => {
    sink = await startSink();
    server = await startAutomationServer(
      optInBoth,
      { FAILOVER_NOTIFY: `generic+${sink.url}/notify` },
      { github: true },
    );
  });
  afterAll(async () => {
    await server?.close();
    await sink?.close();
  });

  it("alert -> one commit through the GitHub API, retry -> none, signed Flux event -> confirmed, notified", async () => {
    const dir = server.fake?.dir ?? "";
    const before = commitCount(dir);
    const payload = alertPayload({
      node: "k3s-w1",
      alertname: "KubeNodeUnreachable",
      startsAt: new Date(Date.now() - 10 * 60_000),
    });
    const res = await server.alert(payload);
    expect(res.status).toBe(200);
    const [outcome] = ((await res.json()) as { alerts: Json[] }).alerts;
    expect(outcome).toMatchObject({ result: "applied", services: ["radarr", "sonarr"] });
    expect(commitCount(dir)).toBe(before + 1);
    expect(git(dir, "log", "-1", "--format=%B", "main")).toContain(
      "Failover-Trigger: alertmanager",
    );

    const retry = ((await (await server.alert(payload)).json()) as { alerts: Json[] }).alerts[0];
    expect(retry).toMatchObject({ result: "applied", duplicate: true, commit: outcome?.commit });
    expect(commitCount(dir)).toBe(before + 1);

    const sha = String((outcome?.commit as { sha?: string } | undefined)?.sha);
    const wrong = await server.fluxEvent(fluxEvent({ name: "apps", revision: sha }), "wrong");
    expect(wrong.status).toBe(401);
    const signed = await server.fluxEvent(fluxEvent({ name: "apps", revision: sha }));
    expect(signed.status).toBe(202);
    const got = await fetch(`${server.url}/api/operations/${String(outcome?.operation)}`);
    const { operation } = (await got.json()) as { operation: Json };
    expect(operation).toMatchObject({
      status: "confirmed",
      services: ["radarr", "sonarr"],
      commit: { sha },
    });

    // The pipeline's `committed` event reaches the notifier through the background listeners.
    await server.runtime.background.idle();
    await server.automation.notifier.flush();
    const types = sink.received.map((r) => (JSON.parse(r.body) as Json).type);
    expect(types.sort()).toEqual(["automatic_started", "committed", "confirmed"]);
  });

  it("an alert for a node no service runs on is ignored, and writes nothing", async () => {
    const before = commitCount(server.fake?.dir ?? "");
    const res = await server.alert(
      alertPayload({
        node: "primary-2",
        startsAt: new Date(Date.now() - 10 * 60_000),
        fingerprint: "abcdef0123",
      }),
    );
    const [outcome] = ((await res.json()) as { alerts: Json[] }).alerts;
    expect(outcome?.result).toBe("ignored");
    expect(commitCount(server.fake?.dir ?? "")).toBe(before);
  });
});

describe("closed loop as serve composes it, on the fake GitHub", () => {
  let server: AutomationServer;
  let sink: Awaited<ReturnType<typeof startSink>>;
  beforeAll(async () => {
    sink = await startSink();
    server = await startAutomationServer(
      optInBoth,
      { FAILOVER_NOTIFY: `generic+${sink.url}/notify` },
      { github: true, composed: true },
    );
  });
  afterAll(async () => {
    await server?.close();
    await sink?.close();
  });

  it("alert -> one commit and an in_progress Deployment; a signed Flux event -> operation confirmed, Deployment success, notified", async () => {
    const fake = server.fake;
    if (fake === undefined) throw new Error("GitHub mode expected");
    const res = await server.alert(
      alertPayload({ node: "k3s-w1", startsAt: new Date(Date.now() - 10 * 60_000) }),
    );
    const [outcome] = ((await res.json()) as { alerts: Json[] }).alerts;
    expect(outcome).toMatchObject({ result: "applied", services: ["radarr", "sonarr"] });
    const sha = String((outcome?.commit as { sha?: string } | undefined)?.sha);
    await server.runtime.background.idle();
    const deployments = () => deploymentsState({ fake: fake.context });
    expect(deployments().map((d) => [d.sha, d.environment])).toEqual([
      [sha, "failover-node-primary"],
    ]);
    expect(deployments()[0]?.statuses.map((s) => s.state)).toEqual(["in_progress"]);

    expect((await server.fluxEvent(fluxEvent({ name: "apps", revision: sha }))).status).toBe(202);
    await server.runtime.background.idle();
    const got = await fetch(`${server.url}/api/operations/${String(outcome?.operation)}`);
    expect(((await got.json()) as { operation: Json }).operation).toMatchObject({
      status: "confirmed",
      commit: { sha },
    });
    expect(deployments()[0]?.statuses.map((s) => s.state)).toEqual(["in_progress", "success"]);
    await server.runtime.automation?.notifier.flush();
    const types = sink.received.map((r) => (JSON.parse(r.body) as Json).type);
    expect(types).toContain("confirmed");
  });
});
