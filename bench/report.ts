import type { BenchReport, RowReport } from "./bench.js";
import { median, percentile, type Sample } from "./measure.js";

/** "2" when every run agrees, "2-4" when runs differ. */
function range(samples: readonly Sample[], pick: (s: Sample) => number): string {
  const values = samples.map(pick);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? String(lo) : `${lo}-${hi}`;
}

function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : "-";
}

export interface RowSummary {
  readonly operation: string;
  readonly calls: string;
  readonly graphql: string;
  readonly rest: string;
  readonly writes: string;
  readonly commits: string;
  readonly medianMs: string;
  readonly p95Ms: string;
  /** Median time to landing (the commit or PR known to GitHub). */
  readonly landedMs: string;
  readonly goal: string;
  readonly outcome: string;
}

function goalCell(row: RowReport): string {
  if (row.goal === undefined) return "";
  if (row.goalMet === undefined) return row.goal;
  return `${row.goal}: ${row.goalMet ? "met" : "MISSED"}`;
}

export function summarize(row: RowReport): RowSummary {
  if (row.samples.length === 0) {
    const why = row.unavailable !== undefined ? "n/a (PR routes missing)" : "failed";
    return {
      operation: row.operation,
      calls: why,
      graphql: "",
      rest: "",
      writes: "",
      commits: "",
      medianMs: "",
      p95Ms: "",
      landedMs: "",
      goal: goalCell(row),
      outcome: row.error ?? "",
    };
  }
  const times = row.samples.map((s) => s.ms);
  const outcomes = [...new Set(row.samples.map((s) => s.detail).filter((d) => d !== undefined))];
  return {
    operation: row.operation,
    calls: range(row.samples, (s) => s.calls),
    graphql: range(row.samples, (s) => s.graphql),
    rest: range(row.samples, (s) => s.rest),
    writes: range(row.samples, (s) => s.writes),
    commits: range(row.samples, (s) => s.commits),
    medianMs: ms(median(times)),
    p95Ms: ms(percentile(times, 95)),
    landedMs: (() => {
      const landed = row.samples.flatMap((s) => (s.landedMs === undefined ? [] : [s.landedMs]));
      return landed.length === 0 ? "" : ms(median(landed));
    })(),
    goal: goalCell(row),
    outcome: [
      outcomes.join(", "),
      row.error === undefined ? "" : `failed after ${row.samples.length}: ${row.error}`,
    ]
      .filter((s) => s !== "")
      .join("; "),
  };
}

const COLUMNS: readonly (readonly [keyof RowSummary, string, "left" | "right"])[] = [
  ["operation", "operation", "left"],
  ["calls", "API calls", "right"],
  ["graphql", "GraphQL", "right"],
  ["rest", "REST", "right"],
  ["writes", "writes", "right"],
  ["commits", "commits", "right"],
  ["landedMs", "landed ms", "right"],
  ["medianMs", "response ms", "right"],
  ["p95Ms", "p95 ms", "right"],
  ["goal", "call-count goal", "left"],
  ["outcome", "outcome", "left"],
];

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A Markdown table (readable in a terminal and pasteable into docs) plus the run's facts. */
export function formatReport(report: BenchReport): string {
  const rows = report.rows.map(summarize);
  const widths = COLUMNS.map(([key, title]) =>
    Math.max(title.length, ...rows.map((r) => r[key].length)),
  );
  const cell = (text: string, i: number) => {
    const [, , align] = COLUMNS[i] ?? ["", "", "left"];
    const width = widths[i] ?? text.length;
    return align === "right" ? text.padStart(width) : text.padEnd(width);
  };
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  const rule = `|${widths
    .map((w, i) => (COLUMNS[i]?.[2] === "right" ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2)))
    .join("|")}|`;
  const out = [
    `failover-api bench: Node ${report.node} (${report.platform}), ${report.services} services, ` +
      `${report.latencyMs} ms added per GitHub round trip, ${report.runs} run(s) per operation, ` +
      `server's mutations paced ${report.writeIntervalMs ?? "1000 (default)"} ms apart`,
    "",
    line(COLUMNS.map(([, title]) => title)),
    rule,
    ...rows.map((r) => line(COLUMNS.map(([key]) => r[key]))),
    "",
    `peak RSS ${mb(report.peakRssBytes)} (process.memoryUsage().rss, sampled after each run; ` +
      `OS maxRSS ${mb(report.maxRssBytes)}; the fake GitHub runs in the same process)`,
  ];
  return out.join("\n");
}

/** The --json document: the report with each row's summary next to its raw samples. */
export function jsonReport(report: BenchReport): string {
  return JSON.stringify(
    {
      ...report,
      rows: report.rows.map((row) => {
        const times = row.samples.map((s) => s.ms);
        return {
          ...row,
          medianMs: row.samples.length === 0 ? null : median(times),
          p95Ms: row.samples.length === 0 ? null : percentile(times, 95),
        };
      }),
    },
    null,
    2,
  );
}
