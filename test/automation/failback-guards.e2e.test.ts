import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerApi } from "../../src/automation/alertmanager-api.js";
import type { KubeReader } from "../../src/cluster/kube-reader.js";
import { commitCount, fileAt, git } from "../helpers/git.js";
import {
  ALERT_TOKEN,
  type AutomationServer,
  alertPayload,
  fakeTimers,
  gettableAlert,
  startAutomationServer,
  startFakeAlertmanager,
} from "./automation-server.js";

type Outcome = {
  result: string;
  services: string[];
  duplicate: boolean;
  commit?: { sha: string };
  heldBack: { guard: string; service?: string; message: string }[];
};

const SONARR = "clusters/homelab/apps/media/sonarr/deployment.yaml";
const RADARR = "clusters/homelab/apps/media/radarr/deployment.yaml";
const MIN = 60_000;

/**
 * Both services opt in to failover and failback; sonarr fails back after 1m, radarr after 5m.
 * The cooldown is short: the tests move the clock by minutes, never wait.
 */
function services(demo: string): string {
  return `nodes:\n  k3s-w1: primary\n  k3s-w2: backup\nautomation:\n  cooldown: 10s\n${demo
    .replace(
      "    backup_node_label: backup\n\n",
      "    backup_node_label: backup\n    auto_failover: true\n    auto_failback: true\n    auto_failback_after: 1m\n\n",
    )
    .replace(
      "    backup_node_label: backup\n    # Optional",
      "    backup_node_label: backup\n    auto_failover: true\n    auto_failback: true\n    auto_failback_after: 5m\n    # Optional",
    )}`;
}

const role = (server: AutomationServer, path: string) =>
  /role: (\S+)/.exec(fileAt(server.repoDir, "main", path))?.[1];

async function alerts(res: Response | Promise<Response>): Promise<Outcome[]> {
  const response = await res;
  expect(response.status).toBe(200);
  return ((await response.json()) as { alerts: Outcome[] }).alerts;
}

/** One payload holding the alerts of several (a group whose alerts fire and resolve apart). */
function together(...payloads: ReturnType<typeof alertPayload>[]) {
  const [first] = payloads;
  if (first === undefined) throw new Error("no payload");
  return {
    ...first,
    status: payloads.some((p) => p.status === "firing") ? "firing" : "resolved",
    groupKey: '{}/{failover="true"}:{failover_node="k3s-w1"}',
    alerts: payloads.flatMap((p) => p.alerts),
  };
}

/** A cluster whose node k3s-w1 is Ready as `ready` says; every other read fails (RPO unknown). */
function cluster(state: { ready: string | Error }): KubeReader {
  return {
    get: async (path) => {
      if (path !== "/api/v1/nodes?fieldSelector=metadata.name%3Dk3s-w1") {
        throw new Error(`not served here: ${path}`);
      }
      if (state.ready instanceof Error) throw state.ready;
      return { items: [{ status: { conditions: [{ type: "Ready", status: state.ready }] } }] };
    },
  };
}

const t0 = Date.now();
const startsAt = new Date(t0 - 10 * MIN);
const notReady = (status: "firing" | "resolved" = "firing", endsAt?: Date) =>
  alertPayload({
    status,
    node: "k3s-w1",
    alertname: "KubeNodeNotReady",
    fingerprint: "a100000000000001",
    startsAt,
    ...(endsAt === undefined ? {} : { endsAt }),
  });
const unreachable = (status: "firing" | "resolved" = "firing", endsAt?: Date) =>
  alertPayload({
    status,
    node: "k3s-w1",
    alertname: "KubeNodeUnreachable",
    fingerprint: "b200000000000002",
    startsAt,
    ...(endsAt === undefined ? {} : { endsAt }),
  });

/** The two node-down alerts fire; both services go to backup in one commit. */
async function bothDown(server: AutomationServer): Promise<void> {
  const [first] = await alerts(server.alert(notReady()));
  expect(first).toMatchObject({ result: "applied", services: ["radarr", "sonarr"] });
  const [second] = await alerts(server.alert(unreachable()));
  expect(second?.result).toBe("no_op");
  expect([role(server, SONARR), role(server, RADARR)]).toEqual(["backup", "backup"]);
}

describe("a resolved alert does not fail back onto a node another node-down alert says is down", () => {
  let clock = t0;
  const state = { ready: "True" as string | Error };
  let server: AutomationServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    clock = t0;
  });

  it("no cluster access, no Alertmanager API: NotReady still firing and Unreachable resolved in one payload moves nothing", async () => {
    server = await startAutomationServer(services, {}, { now: () => clock });
    await bothDown(server);
    const before = commitCount(server.repoDir);
    clock = t0 + 20 * MIN;
    // The resolve first in the payload: the firing alert is still known before it is judged.
    const [resolved, firing] = await alerts(
      server.alert(together(unreachable("resolved", new Date(t0 + 10 * MIN)), notReady())),
    );
    expect(firing?.result).toBe("no_op");
    expect(resolved).toMatchObject({ result: "held_back", services: [] });
    expect(resolved?.heldBack.map((h) => h.guard)).toEqual(["node_still_down"]);
    expect(resolved?.heldBack[0]?.message).toContain("KubeNodeNotReady");
    expect(commitCount(server.repoDir)).toBe(before);
    expect([role(server, SONARR), role(server, RADARR)]).toEqual(["backup", "backup"]);
  });

  it("no cluster access, no Alertmanager API: even the last resolve is held (node_health_unknown), the fix named", async () => {
    server = await startAutomationServer(services, {}, { now: () => clock });
    await bothDown(server);
    const before = commitCount(server.repoDir);
    clock = t0 + 20 * MIN;
    const both = await alerts(
      server.alert(
        together(
          unreachable("resolved", new Date(t0 + 10 * MIN)),
          notReady("resolved", new Date(t0 + 10 * MIN)),
        ),
      ),
    );
    // Neither is held by the other: the payload says both resolved.
    for (const held of both) {
      expect(held.heldBack.map((h) => h.guard)).toEqual(["node_health_unknown"]);
      expect(held.heldBack[0]?.message).toContain("FAILOVER_ALERTMANAGER_URL");
    }
    expect(commitCount(server.repoDir)).toBe(before);
  });

  it("cluster access: the payload's firing NotReady holds even while the node reads Ready; its own resolve then fails back", async () => {
    state.ready = "True";
    server = await startAutomationServer(services, {}, { now: () => clock, kube: cluster(state) });
    await bothDown(server);
    const before = commitCount(server.repoDir);
    clock = t0 + 20 * MIN;
    const [resolved] = await alerts(
      server.alert(together(unreachable("resolved", new Date(t0 + 10 * MIN)), notReady())),
    );
    expect(resolved?.heldBack.map((h) => h.guard)).toEqual(["node_still_down"]);
    expect(commitCount(server.repoDir)).toBe(before);
    const [back] = await alerts(server.alert(notReady("resolved", new Date(t0 + 10 * MIN))));
    expect(back).toMatchObject({ result: "applied", services: ["radarr", "sonarr"] });
    expect([role(server, SONARR), role(server, RADARR)]).toEqual(["primary", "primary"]);
    expect(git(server.repoDir, "log", "-1", "--format=%B", "main")).toContain(
      "Failover-Trigger: alertmanager",
    );
  });

  it("cluster access: a resolve whose node is not Ready (the other alert went to another replica) is held, and looked at again until it is", async () => {
    const timers = fakeTimers();
    server = await startAutomationServer(
      services,
      {},
      { now: () => clock, kube: cluster(state), schedule: timers.schedule },
    );
    state.ready = "True";
    // This replica only ever got the Unreachable alert.
    const [down] = await alerts(server.alert(unreachable()));
    expect(down?.result).toBe("applied");
    const before = commitCount(server.repoDir);
    state.ready = "False";
    clock = t0 + 20 * MIN;
    const [held] = await alerts(server.alert(unreachable("resolved", new Date(t0 + 10 * MIN))));
    expect(held?.heldBack.map((h) => h.guard)).toEqual(["node_still_down"]);
    expect(commitCount(server.repoDir)).toBe(before);
    // A read that fails cannot tell: still held, looked at again.
    state.ready = new Error("connection refused");
    clock += MIN;
    expect(await timers.runDue()).toBe(1);
    expect(commitCount(server.repoDir)).toBe(before);
    state.ready = "True";
    clock += MIN;
    expect(await timers.runDue()).toBe(1);
    expect(commitCount(server.repoDir)).toBe(before + 1);
    expect([role(server, SONARR), role(server, RADARR)]).toEqual(["primary", "primary"]);
  });

  it("a re-sent firing alert (a duplicate) cancels the node's pending failback look", async () => {
    const timers = fakeTimers();
    state.ready = "True";
    server = await startAutomationServer(
      services,
      {},
      { now: () => clock, kube: cluster(state), schedule: timers.schedule },
    );
    await bothDown(server);
    const before = commitCount(server.repoDir);
    clock = t0 + 20 * MIN;
    const [held] = await alerts(server.alert(unreachable("resolved", new Date(clock))));
    expect(held?.result).toBe("held_back");
    expect(timers.pending()).toBe(1);
    // Alertmanager sends NotReady again (repeat_interval): answered as a duplicate, and the
    // node is down, so the pending failback is cancelled.
    const [again] = await alerts(server.alert(notReady()));
    expect(again?.duplicate).toBe(true);
    expect(timers.pending()).toBe(0);
    clock += 10 * MIN;
    expect(await timers.runDue()).toBe(0);
    expect(commitCount(server.repoDir)).toBe(before);
  });

  it("a failback never undoes what a person moved: radarr promoted by hand stays on backup", async () => {
    state.ready = "True";
    server = await startAutomationServer(services, {}, { now: () => clock, kube: cluster(state) });
    const byHand = await server.post(
      "/api/failover/radarr/promote",
      {},
      { authorization: `Bearer ${ALERT_TOKEN}` },
    );
    expect(byHand.status).toBe(200);
    const [down] = await alerts(server.alert(notReady()));
    expect(down).toMatchObject({ result: "applied", services: ["sonarr"] });
    clock = t0 + 20 * MIN;
    const [back] = await alerts(server.alert(notReady("resolved", new Date(t0 + 10 * MIN))));
    expect(back).toMatchObject({ result: "applied", services: ["sonarr"] });
    expect(back?.heldBack).toEqual([
      expect.objectContaining({ guard: "not_moved_automatically", service: "radarr" }),
    ]);
    expect([role(server, SONARR), role(server, RADARR)]).toEqual(["primary", "backup"]);
  });
});

describe("Alertmanager's API says what every replica was sent", () => {
  let am: Awaited<ReturnType<typeof startFakeAlertmanager>>;
  let server: AutomationServer | undefined;
  let clock = t0;
  beforeAll(async () => {
    am = await startFakeAlertmanager();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    clock = t0;
    am.alerts.splice(0, am.alerts.length);
    am.fail = false;
  });
  afterAll(() => am?.close());

  it("a resolve is held while Alertmanager holds another node-down alert for the node as firing; it fails back once none fires", async () => {
    server = await startAutomationServer(
      services,
      {},
      { now: () => clock, alertmanager: alertmanagerApi({ url: am.url }) },
    );
    const [down] = await alerts(server.alert(unreachable()));
    expect(down?.result).toBe("applied");
    const before = commitCount(server.repoDir);
    // NotReady fires too, sent to the other replica: only Alertmanager knows.
    am.alerts.push(
      gettableAlert({ alertname: "KubeNodeNotReady", node: "k3s-w1", fingerprint: "a1" }),
    );
    clock = t0 + 20 * MIN;
    const resolve = unreachable("resolved", new Date(t0 + 10 * MIN));
    const [held] = await alerts(server.alert(resolve));
    expect(held?.heldBack.map((h) => h.guard)).toEqual(["node_still_down"]);
    expect(held?.heldBack[0]?.message).toContain("Alertmanager holds KubeNodeNotReady");
    expect(commitCount(server.repoDir)).toBe(before);
    // Alertmanager cannot be asked: cannot tell, held.
    am.fail = true;
    const [unknown] = await alerts(server.alert(resolve));
    expect(unknown?.heldBack.map((h) => h.guard)).toEqual(["node_health_unknown"]);
    expect(commitCount(server.repoDir)).toBe(before);
    // Nothing fires any more (NotReady's resolve went to the other replica): the same alert
    // looked at again fails both back.
    am.fail = false;
    am.alerts.splice(0, am.alerts.length);
    const [back] = await alerts(server.alert(resolve));
    expect(back).toMatchObject({ result: "applied", services: ["radarr", "sonarr"] });
    expect(commitCount(server.repoDir)).toBe(before + 1);
  });

  it("the auto_failback_after timer does not fail back when the node went down again and that alert went to the other replica", async () => {
    const timers = fakeTimers();
    server = await startAutomationServer(
      services,
      {},
      {
        now: () => clock,
        alertmanager: alertmanagerApi({ url: am.url }),
        schedule: timers.schedule,
      },
    );
    const [down] = await alerts(server.alert(notReady()));
    expect(down?.result).toBe("applied");
    const before = commitCount(server.repoDir);
    // Resolved just now: both wait for their auto_failback_after.
    clock = t0 + 20 * MIN;
    const [waiting] = await alerts(server.alert(notReady("resolved", new Date(clock))));
    expect(waiting?.heldBack.map((h) => h.guard)).toEqual([
      "auto_failback_after",
      "auto_failback_after",
    ]);
    // The node goes down again; Alertmanager sends that alert to the other replica.
    am.alerts.push(
      gettableAlert({ alertname: "KubeNodeNotReady", node: "k3s-w1", fingerprint: "a2" }),
    );
    clock += 2 * MIN;
    expect(await timers.runDue()).toBe(1);
    expect(commitCount(server.repoDir)).toBe(before);
    expect([role(server, SONARR), role(server, RADARR)]).toEqual(["backup", "backup"]);
  });
});

describe("a service held back inside a partly handled alert is decided again", () => {
  let clock = t0;
  const state = { ready: "True" as string | Error };
  let server: AutomationServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    clock = t0;
  });

  it("sonarr fails back after 1m, radarr held by its 5m; the same alert at +12m fails radarr back, then is a duplicate", async () => {
    server = await startAutomationServer(services, {}, { now: () => clock, kube: cluster(state) });
    await alerts(server.alert(notReady()));
    const ended = new Date(t0 + 20 * MIN);
    const resolve = notReady("resolved", ended);
    clock = ended.getTime() + 2 * MIN;
    const [first] = await alerts(server.alert(resolve));
    expect(first).toMatchObject({ result: "applied", services: ["sonarr"], duplicate: false });
    expect(first?.heldBack).toEqual([
      expect.objectContaining({ guard: "auto_failback_after", service: "radarr" }),
    ]);
    const before = commitCount(server.repoDir);
    clock = ended.getTime() + 12 * MIN;
    const [again] = await alerts(server.alert(resolve));
    expect(again).toMatchObject({ result: "applied", services: ["radarr"], duplicate: false });
    expect(again?.heldBack).toEqual([]);
    expect(commitCount(server.repoDir)).toBe(before + 1);
    expect([role(server, SONARR), role(server, RADARR)]).toEqual(["primary", "primary"]);
    const [third] = await alerts(server.alert(resolve));
    expect(third).toMatchObject({ duplicate: true, heldBack: [] });
    expect(third?.commit?.sha).toBe(again?.commit?.sha);
    expect(commitCount(server.repoDir)).toBe(before + 1);
    // After a restart, Git's trailers say which services the alert moved: still nothing new.
    await server.restart();
    const [afterRestart] = await alerts(server.alert(resolve));
    expect(afterRestart).toMatchObject({ duplicate: true, heldBack: [] });
    expect(commitCount(server.repoDir)).toBe(before + 1);
  });

  it("the timer's look at the held-back service fails it back", async () => {
    const timers = fakeTimers();
    server = await startAutomationServer(
      services,
      {},
      { now: () => clock, kube: cluster(state), schedule: timers.schedule },
    );
    await alerts(server.alert(notReady()));
    const ended = new Date(t0 + 20 * MIN);
    clock = ended.getTime() + 2 * MIN;
    const [first] = await alerts(server.alert(notReady("resolved", ended)));
    expect(first?.services).toEqual(["sonarr"]);
    const before = commitCount(server.repoDir);
    clock = ended.getTime() + 6 * MIN;
    expect(await timers.runDue()).toBe(1);
    expect(commitCount(server.repoDir)).toBe(before + 1);
    expect(role(server, RADARR)).toBe("primary");
    expect(timers.pending()).toBe(0);
  });

  it("a service held back by a lock inside a firing alert moves on the alert's re-send once unlocked", async () => {
    server = await startAutomationServer(services, {}, { now: () => clock });
    const auth = { authorization: `Bearer ${ALERT_TOKEN}` };
    const locked = await server.post("/api/failover/radarr/lock", { reason: "upgrade" }, auth);
    expect(locked.status).toBe(200);
    const [first] = await alerts(server.alert(notReady()));
    expect(first).toMatchObject({ result: "applied", services: ["sonarr"] });
    expect(first?.heldBack).toEqual([
      expect.objectContaining({ guard: "locked", service: "radarr" }),
    ]);
    const [still] = await alerts(server.alert(notReady()));
    expect(still).toMatchObject({ duplicate: true, services: ["sonarr"] });
    expect(still?.heldBack.map((h) => h.guard)).toEqual(["locked"]);
    expect((await server.post("/api/failover/radarr/unlock", {}, auth)).status).toBe(200);
    const before = commitCount(server.repoDir);
    const [resent] = await alerts(server.alert(notReady()));
    expect(resent).toMatchObject({ result: "applied", services: ["radarr"], duplicate: false });
    expect(commitCount(server.repoDir)).toBe(before + 1);
    expect(role(server, RADARR)).toBe("backup");
  });
});
