import { parseArgs } from "node:util";
import { runBench } from "./bench.js";
import { benchHistory, HISTORY_GOAL_MS } from "./history.js";
import { formatReport, jsonReport } from "./report.js";

const USAGE = `usage: npm run bench -- [--latency-ms 50] [--runs 5] [--services 20] [--json]

  --latency-ms  added by the fake GitHub to every round trip (default 50)
  --runs        timed runs per operation (default 5)
  --services    generated services besides the demo's two (default 20)
  --write-interval-ms
                GITHUB_WRITE_INTERVAL_MS of the composed server (default: its own, 1000)
  --history-commits
                unrelated commits above a failover for the history figure (default 30000, 0: skip)
  --json        machine-readable output on stdout
  --only        comma-separated operation ids (urgent, urgent-http, pr-http,
                status-sequential, status-concurrent, status-all-cold, status-all-warm, naive-1, batched-K, naive-K)`;

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
  const report = await runBench({
    latencyMs: integer("latency-ms", values["latency-ms"], 50, 0),
    runs: integer("runs", values.runs, 5, 1),
    services: integer("services", values.services, 20, 0),
    ...(only === undefined ? {} : { only }),
    ...(values["write-interval-ms"] === undefined
      ? {}
      : { writeIntervalMs: integer("write-interval-ms", values["write-interval-ms"], 1000, 0) }),
    onProgress: (line) => process.stderr.write(`bench: ${line}\n`),
  });
  console.log(values.json === true ? jsonReport(report) : formatReport(report));
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
