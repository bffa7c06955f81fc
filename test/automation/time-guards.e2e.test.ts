import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeReader } from "../../src/cluster/kube-reader.js";
import { commitCount, git } from "../helpers/git.js";
import { eventually } from "../ops/ops-server.js";
import {
  type AutomationServer,
  alertPayload,
  jsonBodies,
  startAutomationServer,
  startSink,
} from "./automation-server.js";

type Outcome = { result: string; heldBack: { guard: string; retryAt?: number }[] };

describe("a guard that passes with time is looked at again without waiting for Alertmanager", () => {
  let server: AutomationServer;
  let sink: Awaited<ReturnType<typeof startSink>>;
  // The automation's clock: the test moves it, so a slow machine cannot pass the guard early.
  const t0 = Date.now();
  let clock = t0;
  beforeAll(async () => {
    sink = await startSink();
    server = await startAutomationServer(
      (demo) =>
        `automation:\n  auto_failover_after: 1s\n${demo.replace(
          "    backup_node_label: backup\n",
          "    backup_node_label: backup\n    auto_failover: true\n",
        )}`,
      { FAILOVER_NOTIFY: `generic+${sink.url}/notify` },
      { now: () => clock },
    );
  });
  afterAll(async () => {
    await server?.close();
    await sink?.close();
  });

  // Without cluster access, a replica cannot know whether the alert's resolve went to another
  // replica: its timer does not act on its own memory; Alertmanager's next delivery does.
  it("held back by auto_failover_after; when the wait passes, alert_not_resent holds until Alertmanager sends it again", async () => {
    const before = commitCount(server.repoDir);
    const payload = alertPayload({ node: "primary", startsAt: new Date(t0) });
    const res = await server.alert(payload);
    const [outcome] = ((await res.json()) as { alerts: Outcome[] }).alerts;
    expect(outcome?.result).toBe("held_back");
    expect(outcome?.heldBack[0]?.guard).toBe("auto_failover_after");
    expect(commitCount(server.repoDir)).toBe(before);
    clock = t0 + 5000; // the alert is old enough now: the timer looks again
    // The timer's look ends in a held-back notice (the signal), and writes nothing.
    const notice = await eventually(
      async () => {
        await server.automation.notifier.flush();
        return jsonBodies<{ type: string; heldBack: { guard: string }[] }>(sink.received).find(
          (n) => n.type === "automatic_held_back" && n.heldBack[0]?.guard !== "auto_failover_after",
        );
      },
      "the timer's held-back notice",
      90_000,
    );
    expect(notice.heldBack.map((h) => h.guard)).toEqual(["alert_not_resent"]);
    expect(commitCount(server.repoDir)).toBe(before);
    expect(
      await server.registry().getSingleMetricAsString("failover_guard_holdbacks_total"),
    ).toContain('guard="alert_not_resent"} 1');
    // Alertmanager sends the still-firing alert again (repeat_interval): that delivery acts.
    const again = await server.alert(payload);
    const [acted] = ((await again.json()) as { alerts: Outcome[] }).alerts;
    expect(acted?.result).toBe("applied");
    expect(git(server.repoDir, "log", "-1", "--format=%B", "main")).toContain(
      "Failover-Trigger: alertmanager",
    );
    expect(commitCount(server.repoDir)).toBe(before + 1);
  });

  it("a signed Flux event of the wrong shape is refused (400), not half-read", async () => {
    const res = await server.fluxEvent({
      involvedObject: { kind: "Kustomization" },
      severity: "loud",
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
  });
});

describe("with cluster access, the timer acts when the node is still not Ready", () => {
  let server: AutomationServer;
  const t0 = Date.now();
  let clock = t0;
  let ready = "False";
  const kube: KubeReader = {
    get: async (path) => {
      // Only the node itself answers; the RPO gate's reads fail (RPO unknown, no max_rpo set).
      // A list with a field selector: the example RBAC grants `list` on nodes, not `get`.
      if (path !== "/api/v1/nodes?fieldSelector=metadata.name%3Dprimary") {
        throw new Error(`not served here: ${path}`);
      }
      return { items: [{ status: { conditions: [{ type: "Ready", status: ready }] } }] };
    },
  };
  beforeAll(async () => {
    server = await startAutomationServer(
      (demo) =>
        `automation:\n  auto_failover_after: 1s\n${demo.replace(
          "    backup_node_label: backup\n",
          "    backup_node_label: backup\n    auto_failover: true\n",
        )}`,
      {},
      { now: () => clock, kube },
    );
  });
  afterAll(() => server?.close());

  it("held back by auto_failover_after, then promoted by the timer: the cluster says the node is still down", async () => {
    const before = commitCount(server.repoDir);
    const res = await server.alert(alertPayload({ node: "primary", startsAt: new Date(t0) }));
    const [outcome] = ((await res.json()) as { alerts: Outcome[] }).alerts;
    expect(outcome?.heldBack.map((h) => h.guard)).toEqual(["auto_failover_after"]);
    ready = "Unknown"; // a node that stopped reporting: not Ready
    clock = t0 + 5000;
    await eventually(
      async () => (commitCount(server.repoDir) > before ? true : undefined),
      "the re-examined alert's commit",
      90_000,
    );
    expect(commitCount(server.repoDir)).toBe(before + 1);
  });
});
