import { parseArgs } from "node:util";
import { runBench } from "./bench.js";
import { benchChatOps } from "./chatops.js";
import { ALERT_GOAL_MS, benchClosedLoop } from "./closed-loop.js";
import { benchHistory, HISTORY_GOAL_MS } from "./history.js";
import { benchLocalMode } from "./local-mode.js";
import { formatReport, jsonReport } from "./report.js";
import { benchStartup } from "./startup.js";

const USAGE = `usage: npm run bench -- [--latency-ms 50] [--runs 5] [--services 20] [--json]

  --latency-ms  added by the fake GitHub to every round trip (default 50)
  --runs        timed runs per operation (default 5)
  --services    generated services besides the demo's two (default 20)
  --write-interval-ms
                GITHUB_WRITE_INTERVAL_MS of the composed server (default: its own, 1000)
  --history-commits
                unrelated commits above a failover for the history figure (default 30000, 0: skip)
  --node-sizes  node-wide rows over HTTP, one node per size (default 1,5,20,50; "" for none)
  --local-sizes local-mode promote next to clone-and-push, repository sizes in files
                (default 30,2000; "" for none)
  --startup     built server start -> ready and idle RSS (default on; --no-startup skips)
  --closed-loop Alertmanager POST -> commit and Flux event -> confirmed (default on;
                --no-closed-loop skips)
  --chatops     a signed /failover comment through Probot: webhook answered, commit landed,
                reply posted (default on; --no-chatops skips)
  --build       run npm run build first even when dist/cli.js exists
  --json        machine-readable output on stdout
  --only        comma-separated operation ids (urgent, urgent-http, pr-http,
                status-sequential, status-concurrent, status-all-cold, status-all-warm, node-N,
                naive-1, batched-K, naive-K, chatops)

Exits non-zero when a call-count goal is missed (never because of a time).`;

function integer(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "latency-ms": { type: "string" },
      runs: { type: "string" },
      services: { type: "string" },
      only: { type: "string" },
      "write-interval-ms": { type: "string" },
      "history-commits": { type: "string" },
      "node-sizes": { type: "string" },
      "local-sizes": { type: "string" },
      startup: { type: "boolean", default: true },
      "closed-loop": { type: "boolean", default: true },
      "no-closed-loop": { type: "boolean", default: false },
      chatops: { type: "boolean", default: true },
      "no-chatops": { type: "boolean", default: false },
      "no-startup": { type: "boolean", default: false },
      build: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const only = values.only
    ?.split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const sizes = (name: string, value: string | undefined, fallback: number[]) =>
    value === undefined
      ? fallback
      : value
          .split(",")
          .filter((v) => v.trim() !== "")
          .map((v) => integer(name, v.trim(), 1, 1));
  const runs = integer("runs", values.runs, 5, 1);
  const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const bench = await runBench({
    nodeSizes: sizes("node-sizes", values["node-sizes"], [1, 5, 20, 50]),
    latencyMs: integer("latency-ms", values["latency-ms"], 50, 0),
    runs,
    services: integer("services", values.services, 20, 0),
    ...(only === undefined ? {} : { only }),
    ...(values["write-interval-ms"] === undefined
      ? {}
      : { writeIntervalMs: integer("write-interval-ms", values["write-interval-ms"], 1000, 0) }),
    onProgress: progress,
  });
  const chatops =
    values.chatops === true &&
    values["no-chatops"] !== true &&
    (only === undefined || only.includes("chatops"))
      ? await benchChatOps({
          latencyMs: integer("latency-ms", values["latency-ms"], 50, 0),
          runs,
          writeIntervalMs:
            values["write-interval-ms"] === undefined
              ? undefined
              : integer("write-interval-ms", values["write-interval-ms"], 1000, 0),
          onProgress: progress,
        })
      : [];
  const local = await benchLocalMode({
    runs,
    sizes: sizes("local-sizes", values["local-sizes"], [30, 2000]),
    onProgress: progress,
  });
  const startup =
    values.startup === true && values["no-startup"] !== true
      ? await benchStartup({
          runs: Math.min(runs, 3),
          build: values.build === true,
          onProgress: progress,
        })
      : [];
  const report = { ...bench, rows: [...bench.rows, ...chatops, ...local, ...startup] };
  console.log(values.json === true ? jsonReport(report) : formatReport(report));
  const missed = report.rows.filter((r) => r.goalMet === false);
  if (missed.length > 0) {
    console.error(`call-count goals missed: ${missed.map((r) => r.operation).join("; ")}`);
    process.exitCode = 1;
  }
  if (values["closed-loop"] === true && values["no-closed-loop"] !== true) {
    progress("closed loop: Alertmanager POST -> commit, signed Flux event -> confirmed");
    const loop = await benchClosedLoop({
      latencyMs: integer("latency-ms", values["latency-ms"], 50, 0),
      runs: Math.min(runs, 3),
    });
    const met = loop.alertToCommitMs.median <= ALERT_GOAL_MS;
    console.log(
      `closed loop at ${loop.latencyMs} ms per round trip, ${loop.alerts} alerts: Alertmanager POST -> commit landed median ${loop.alertToCommitMs.median} ms (max ${loop.alertToCommitMs.max}; goal <= ${ALERT_GOAL_MS} ms: ${met ? "met" : "missed"}), ${loop.githubRequestsPerAlert} GitHub calls per alert; signed Flux event -> operation confirmed median ${loop.fluxEventToConfirmedMs.median} ms (max ${loop.fluxEventToConfirmedMs.max})`,
    );
  }
  const historyCommits = integer("history-commits", values["history-commits"], 30_000, 0);
  if (historyCommits > 0) {
    process.stderr.write(`bench: history under ${historyCommits} commits (local mode)\n`);
    const h = await benchHistory(historyCommits);
    const met = h.found === 1 && h.ms <= HISTORY_GOAL_MS;
    console.log(
      `history of a service under ${h.commits} commits, local mode: ${h.ms} ms, ${h.found} failover found (goal <= ${HISTORY_GOAL_MS} ms: ${met ? "met" : "MISSED"})`,
    );
    if (!met) process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  console.error(USAGE);
  process.exitCode = 1;
});
