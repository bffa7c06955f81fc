/**
 * The closed loop on the fake GitHub with added round-trip latency: Alertmanager POST ->
 * commit landed (the alert's answer comes once the commit is in GitHub) and a signed Flux
 * event -> operation confirmed, medians over the runs, with the GitHub calls per alert.
 */
import { alertmanagerApi } from "../src/automation/alertmanager-api.js";
import {
  alertPayload,
  fluxEvent,
  startAutomationServer,
  startFakeAlertmanager,
} from "../test/automation/automation-server.js";

/** Issue 12's goal for Alertmanager POST -> commit landed at 50 ms per round trip. */
export const ALERT_GOAL_MS = 2000;

export interface ClosedLoopFigures {
  readonly latencyMs: number;
  readonly alerts: number;
  readonly githubRequestsPerAlert: number;
  readonly alertToCommitMs: { readonly median: number; readonly max: number };
  readonly fluxEventToConfirmedMs: { readonly median: number; readonly max: number };
}

const config = (demo: string) =>
  `nodes:\n  k3s-w1: primary\nautomation:\n  cooldown: 0s\n  auto_failback_after: 0s\n${demo.replaceAll(
    "    backup_node_label: backup\n",
    "    backup_node_label: backup\n    auto_failover: true\n    auto_failback: true\n",
  )}`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export async function benchClosedLoop(options: {
  readonly latencyMs: number;
  readonly runs: number;
}): Promise<ClosedLoopFigures> {
  // A failback needs evidence the node is healthy: here Alertmanager's API (a fake that holds
  // no firing alert once the resolve is sent), as FAILOVER_ALERTMANAGER_URL gives it.
  const alertmanager = await startFakeAlertmanager();
  const server = await startAutomationServer(
    config,
    {},
    { github: true, alertmanager: alertmanagerApi({ url: alertmanager.url }) },
  );
  try {
    await fetch(`${server.url}/api/status`); // token, default branch, tree: once per process
    if (server.fake !== undefined) server.fake.latencyMs = options.latencyMs;
    const toCommit: number[] = [];
    const toConfirm: number[] = [];
    const requests: number[] = [];
    // Alternating node down (promote) and node back (failback): each alert makes one commit.
    // A resolve is the same alert (fingerprint, startsAt) as the firing one before it, as
    // Alertmanager sends it: a resolve of another alert would leave this one known firing.
    const base = Date.now() - 10 * 60_000;
    for (let i = 0; i < options.runs * 2; i++) {
      const firing = i % 2 === 0;
      const pair = Math.floor(i / 2);
      const payload = alertPayload({
        node: "k3s-w1",
        status: firing ? "firing" : "resolved",
        startsAt: new Date(base - pair * 1000),
        ...(firing ? {} : { endsAt: new Date(Date.now() - 1000) }),
        fingerprint: `f${pair.toString(16).padStart(8, "0")}`,
      });
      const seen = server.fake?.requests.length ?? 0;
      let t = performance.now();
      const res = await server.alert(payload);
      const [outcome] = (
        (await res.json()) as { alerts: { result: string; commit?: { sha: string } }[] }
      ).alerts;
      toCommit.push(performance.now() - t);
      if (outcome?.result !== "applied" || outcome.commit === undefined) {
        throw new Error(`closed loop, run ${i}: ${JSON.stringify(outcome)}`);
      }
      requests.push((server.fake?.requests.length ?? 0) - seen);
      t = performance.now();
      const confirmed = await server.fluxEvent(
        fluxEvent({ name: "apps", revision: outcome.commit.sha }),
      );
      const body = (await confirmed.json()) as { operations: string[] };
      if (body.operations.length === 0) throw new Error(`closed loop, run ${i}: nothing confirmed`);
      toConfirm.push(performance.now() - t);
      await server.runtime.background.idle();
    }
    return {
      latencyMs: options.latencyMs,
      alerts: toCommit.length,
      githubRequestsPerAlert: median(requests),
      alertToCommitMs: {
        median: Math.round(median(toCommit)),
        max: Math.round(Math.max(...toCommit)),
      },
      fluxEventToConfirmedMs: {
        median: Math.round(median(toConfirm)),
        max: Math.round(Math.max(...toConfirm)),
      },
    };
  } finally {
    await server.close();
    await alertmanager.close();
  }
}
