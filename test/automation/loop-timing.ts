/**
 * Timing of the closed loop on the fake GitHub with added round-trip latency (not a test:
 * `npx tsx test/automation/loop-timing.ts [latencyMs] [runs]`). Reports Alertmanager POST ->
 * commit landed (the answer comes after the commit) and signed Flux event -> operation
 * confirmed, as medians over the runs. Meant to move into `npm run bench`.
 */
import { alertPayload, fluxEvent, startAutomationServer } from "./automation-server.js";

const latency = Number(process.argv[2] ?? 50);
const runs = Number(process.argv[3] ?? 5);

const config = (demo: string) =>
  `nodes:\n  k3s-w1: primary\nautomation:\n  cooldown: 0s\n  auto_failback_after: 0s\n${demo.replaceAll(
    "    backup_node_label: backup\n",
    "    backup_node_label: backup\n    auto_failover: true\n    auto_failback: true\n",
  )}`;

const server = await startAutomationServer(config, {}, { github: true });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
try {
  await fetch(`${server.url}/api/status`); // token, default branch, tree: once per process
  if (server.fake !== undefined) server.fake.latencyMs = latency;
  const toCommit: number[] = [];
  const toConfirm: number[] = [];
  const requests: number[] = [];
  for (let i = 0; i < runs * 2; i++) {
    const firing = i % 2 === 0;
    const startsAt = new Date(Date.now() - 10 * 60_000 - i * 1000);
    const payload = alertPayload({
      node: "k3s-w1",
      status: firing ? "firing" : "resolved",
      startsAt,
      ...(firing ? {} : { endsAt: new Date(Date.now() - 1000) }),
      fingerprint: `f${i.toString(16).padStart(8, "0")}`,
    });
    const seen = server.fake?.requests.length ?? 0;
    let t = performance.now();
    const res = await server.alert(payload);
    const [outcome] = (
      (await res.json()) as { alerts: { result: string; commit?: { sha: string } }[] }
    ).alerts;
    toCommit.push(performance.now() - t);
    if (outcome?.result !== "applied" || outcome.commit === undefined) {
      throw new Error(`run ${i}: ${JSON.stringify(outcome)}`);
    }
    const alertRequests = (server.fake?.requests.length ?? 0) - seen;
    requests.push(alertRequests);
    t = performance.now();
    const confirmed = await server.fluxEvent(
      fluxEvent({ name: "apps", revision: outcome.commit.sha }),
    );
    const body = (await confirmed.json()) as { operations: string[] };
    if (body.operations.length === 0) throw new Error(`run ${i}: nothing confirmed`);
    toConfirm.push(performance.now() - t);
  }
  console.log(
    JSON.stringify({
      latencyMs: latency,
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
    }),
  );
} finally {
  await server.close();
}
