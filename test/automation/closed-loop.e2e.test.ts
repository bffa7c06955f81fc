import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitCount, fileAt, git } from "../helpers/git.js";
import {
  type AutomationServer,
  alertPayload,
  fluxEvent,
  startAutomationServer,
  startSink,
} from "./automation-server.js";

type Json = Record<string, unknown>;
type Outcome = {
  result: string;
  services: string[];
  commit?: { sha: string };
  operation?: string;
  duplicate: boolean;
  heldBack: { guard: string }[];
};

const SONARR = "clusters/homelab/apps/media/sonarr/deployment.yaml";
const RADARR = "clusters/homelab/apps/media/radarr/deployment.yaml";

/** sonarr opts in, radarr does not; the node k3s-w1 is the `primary` placement. */
function optIn(demo: string): string {
  return `nodes:\n  k3s-w1: primary\n  k3s-w2: backup\n${demo.replace(
    "    backup_node_label: backup\n",
    "    backup_node_label: backup\n    auto_failover: true\n",
  )}`;
}

async function alerts(res: Response): Promise<Outcome[]> {
  return ((await res.json()) as { alerts: Outcome[] }).alerts;
}

describe("closed loop: Alertmanager -> guarded failover -> Flux confirmation -> notification", () => {
  let server: AutomationServer;
  let sink: Awaited<ReturnType<typeof startSink>>;
  const down = alertPayload({ node: "k3s-w1", startsAt: new Date(Date.now() - 5 * 60_000) });
  let first: Outcome;

  beforeAll(async () => {
    sink = await startSink();
    server = await startAutomationServer(optIn, {
      FAILOVER_NOTIFY: `generic+${sink.url}/hooks/failover`,
    });
  });
  afterAll(async () => {
    await server?.close();
    await sink?.close();
  });

  it("refuses an alert without the API token, or with a wrong one, and writes nothing", async () => {
    const before = commitCount(server.repoDir);
    expect((await server.post("/api/alertmanager", down)).status).toBe(401);
    expect((await server.alert(down, "wrong-token-wrong-token-wrong")).status).toBe(401);
    expect(commitCount(server.repoDir)).toBe(before);
  });

  it("refuses a payload that is not Alertmanager's version 4, and writes nothing", async () => {
    const before = commitCount(server.repoDir);
    const res = await server.alert({ ...down, version: "3" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: Json }).error.code).toBe("invalid_input");
    expect(commitCount(server.repoDir)).toBe(before);
  });

  it("a node-down alert makes one commit moving exactly the opted-in services", async () => {
    const before = commitCount(server.repoDir);
    const res = await server.alert(down);
    expect(res.status).toBe(200);
    const [outcome] = await alerts(res);
    expect(outcome).toMatchObject({ result: "applied", services: ["sonarr"], duplicate: false });
    first = outcome as Outcome;
    expect(commitCount(server.repoDir)).toBe(before + 1);
    const message = git(server.repoDir, "log", "-1", "--format=%B", "main");
    expect(message).toContain("Failover-Trigger: alertmanager");
    expect(message).toContain("Failover-Service: sonarr");
    expect(message).not.toContain("Failover-Service: radarr");
    expect(message).toContain(`Failover-Request: ${first.operation}`);
    expect(fileAt(server.repoDir, "main", SONARR)).toContain("claimName: pvc-sonarr-backup");
    expect(fileAt(server.repoDir, "main", RADARR)).toContain("claimName: pvc-radarr\n");
  });

  it("the retry (same group key, fingerprint, startsAt) makes no commit and gets the same answer", async () => {
    const before = commitCount(server.repoDir);
    const [again] = await alerts(await server.alert(down));
    expect(again).toMatchObject({ result: "applied", duplicate: true, services: ["sonarr"] });
    expect(again?.commit?.sha).toBe(first.commit?.sha);
    expect(commitCount(server.repoDir)).toBe(before);
  });

  it("after a restart the retry is recognised from Git: still no commit, same commit named", async () => {
    await server.restart();
    const before = commitCount(server.repoDir);
    const [again] = await alerts(await server.alert(down));
    expect(again).toMatchObject({ result: "applied", duplicate: true });
    expect(again?.commit?.sha).toBe(first.commit?.sha);
    expect(again?.operation).toBe(first.operation);
    expect(commitCount(server.repoDir)).toBe(before);
  });

  it("a resolved alert makes no commit (auto_failback is off)", async () => {
    const before = commitCount(server.repoDir);
    const resolved = alertPayload({
      status: "resolved",
      node: "k3s-w1",
      startsAt: new Date(Date.now() - 5 * 60_000),
      endsAt: new Date(Date.now() - 60 * 60_000),
    });
    const [outcome] = await alerts(await server.alert(resolved));
    expect(outcome?.result).toBe("held_back");
    expect(outcome?.heldBack.map((h) => h.guard)).toEqual(["auto_failback_disabled"]);
    expect(commitCount(server.repoDir)).toBe(before);
  });

  it("refuses Flux events that are unsigned or wrongly signed", async () => {
    const event = fluxEvent({ name: "apps", revision: first.commit?.sha ?? "" });
    expect((await server.post("/api/flux/events", event)).status).toBe(401);
    expect((await server.fluxEvent(event, "not-the-secret")).status).toBe(401);
    const op = await (await fetch(`${server.url}/api/operations/${first.operation}`)).json();
    expect((op as { operation: { status: string } }).operation.status).toBe("committed");
  });

  it("a signed Flux reconcile of the commit confirms the operation and notifies", async () => {
    const res = await server.fluxEvent(
      fluxEvent({ name: "apps", revision: first.commit?.sha ?? "" }),
    );
    expect(res.status).toBe(202);
    expect(((await res.json()) as { operations: string[] }).operations).toEqual([first.operation]);
    const got = await fetch(`${server.url}/api/operations/${first.operation}`);
    expect(got.status).toBe(200);
    const { operation } = (await got.json()) as {
      operation: Json & { phases: { phase: string }[] };
    };
    expect(operation.status).toBe("confirmed");
    expect(operation.services).toEqual(["sonarr"]);
    expect(operation.phases.map((p) => p.phase)).toEqual(["committed", "confirmed"]);
    expect(operation.flux).toMatchObject({
      kustomization: "flux-system/apps",
      revision: first.commit?.sha,
    });
    await server.automation.notifier.flush();
    const types = sink.received.map((r) => (JSON.parse(r.body) as Json).type);
    expect(types).toContain("confirmed");
    expect(sink.received.every((r) => r.path === "/hooks/failover")).toBe(true);
  });

  it("an alert too young for auto_failover_after is held back and writes nothing", async () => {
    const before = commitCount(server.repoDir);
    const young = alertPayload({
      node: "k3s-w1",
      startsAt: new Date(),
      fingerprint: "aaaabbbbccccdddd",
    });
    const [outcome] = await alerts(await server.alert(young));
    expect(outcome?.result).toBe("held_back");
    expect(outcome?.heldBack.map((h) => h.guard)).toEqual(["auto_failover_after"]);
    expect(commitCount(server.repoDir)).toBe(before);
    expect(
      await server.registry().getSingleMetricAsString("failover_guard_holdbacks_total"),
    ).toContain('guard="auto_failover_after"');
  });

  it("404 for an unknown operation", async () => {
    expect((await fetch(`${server.url}/api/operations/no-such-op`)).status).toBe(404);
  });
});
