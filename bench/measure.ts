import { execFile } from "node:child_process";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import type { FakeGitHub, LoggedRequest } from "../test/fake-github/index.js";

const run = promisify(execFile);

/** One timed execution of an operation and what it cost at the fake GitHub. */
export interface Sample {
  readonly ms: number;
  readonly calls: number;
  readonly graphql: number;
  readonly rest: number;
  /** Mutating requests (GraphQL mutations, REST other than GET): GitHub paces these. */
  readonly writes: number;
  /** New commit objects in the fake's repository (squash merges and PR branches included). */
  readonly commits: number;
  /** Requests by label, e.g. "GraphQL query repository", "PUT /repos/.../contents/{path}". */
  readonly routes: Readonly<Record<string, number>>;
  /** What the operation reported (its outcome, for instance). */
  readonly detail: string | undefined;
  /**
   * When the change was known to GitHub (ms from the start): the last landing write
   * (createCommitOnBranch, auto-merge armed, a merge) answered, seen by polling the fake's
   * log every millisecond. Undefined when nothing landed (status rows, no_op).
   */
  readonly landedMs?: number | undefined;
  /** Calls besides the Deployments audit (the failover's own). */
  readonly failoverCalls?: number;
  /** Audit calls (`/deployments`), before or after the answer. */
  readonly auditCalls?: number;
  /** Calls after the answer (the background listeners: audit, superseded PRs). */
  readonly afterCalls?: number;
}

/** The answered write after which a failover is in GitHub. */
export function isLanding(request: LoggedRequest): boolean {
  if (request.status === undefined || request.status >= 300) return false;
  if (isGraphql(request)) {
    return (request.rootFields ?? []).some(
      (f) => f === "createCommitOnBranch" || f === "enablePullRequestAutoMerge",
    );
  }
  return request.method === "PUT" && /\/pulls\/\d+\/merge$/.test(request.path);
}

export function isGraphql(request: LoggedRequest): boolean {
  return request.path === "/graphql";
}

export function isWrite(request: LoggedRequest): boolean {
  if (isGraphql(request)) return request.operationType === "mutation";
  return request.method !== "GET" && request.method !== "HEAD";
}

/** A stable label: GraphQL by operation type and root fields, REST by method and route shape. */
export function requestLabel(request: LoggedRequest): string {
  if (isGraphql(request)) {
    return `GraphQL ${request.operationType ?? "?"} ${(request.rootFields ?? []).join(",")}`;
  }
  const shape = request.path
    .replace(/^\/repos\/[^/]+\/[^/]+/, "/repos/{owner}/{repo}")
    .replace(/\/contents\/.*$/, "/contents/{path}")
    .replace(/\/(deployments|pulls|issues)\/\d+/, "/$1/{n}")
    .replace(/\/git\/refs?\/.*$/, (m) =>
      m.startsWith("/git/refs/") ? "/git/refs/{ref}" : "/git/ref/{ref}",
    );
  return `${request.method} ${shape}`;
}

/** Every commit object the fake's repository holds, reachable or not. */
export async function countCommitObjects(fake: FakeGitHub): Promise<number> {
  const { stdout } = await run(
    "git",
    ["cat-file", "--batch-all-objects", "--batch-check=%(objecttype)"],
    { cwd: fake.dir, maxBuffer: 64 * 1024 * 1024 },
  );
  let count = 0;
  for (const line of stdout.split("\n")) if (line === "commit") count++;
  return count;
}

/** Runs `operation` once, timing it and attributing the fake's new log entries to it. */
export async function measure(
  fake: FakeGitHub,
  operation: () => Promise<string | undefined>,
  /**
   * Waits for the operation's after-effects (the background listeners: audit, superseded
   * PRs), so their calls count in this row and never in the next one's.
   */
  settle?: () => Promise<void>,
): Promise<Sample> {
  const commitsBefore = await countCommitObjects(fake);
  const first = fake.requests.length;
  const started = performance.now();
  let landedMs: number | undefined;
  let landings = 0;
  const watch = setInterval(() => {
    const seen = fake.requests.slice(first).filter(isLanding).length;
    if (seen > landings) {
      landings = seen;
      landedMs = performance.now() - started;
    }
  }, 1);
  let detail: string | undefined;
  try {
    detail = await operation();
  } finally {
    clearInterval(watch);
  }
  const ms = performance.now() - started;
  const answeredAt = fake.requests.length;
  await settle?.();
  // The row's figures are what the answer waited for; the after-effects are counted apart.
  const requests = fake.requests.slice(first, answeredAt);
  const after = fake.requests.slice(answeredAt);
  const all = [...requests, ...after];
  // Landed within the last poll interval before the answer: at most the answer's time.
  if (requests.filter(isLanding).length > landings) landedMs = ms;
  const commits = (await countCommitObjects(fake)) - commitsBefore;
  const routes: Record<string, number> = {};
  for (const r of requests) {
    const label = requestLabel(r);
    routes[label] = (routes[label] ?? 0) + 1;
  }
  const graphql = requests.filter(isGraphql).length;
  return {
    ms,
    calls: requests.length,
    graphql,
    rest: requests.length - graphql,
    writes: requests.filter(isWrite).length,
    commits,
    routes,
    detail,
    landedMs,
    failoverCalls: all.filter((r) => !r.path.includes("/deployments")).length,
    auditCalls: all.filter((r) => r.path.includes("/deployments")).length,
    afterCalls: after.length,
  };
}

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? hi) + hi) / 2;
}

/** Peak of process.memoryUsage().rss over the samples taken so far. */
export class RssTracker {
  #peak = process.memoryUsage().rss;

  sample(): void {
    this.#peak = Math.max(this.#peak, process.memoryUsage().rss);
  }

  get peakBytes(): number {
    this.sample();
    return this.#peak;
  }
}

/**
 * The production Octokit spaces mutations at least 1 s apart (GitHub's guidance for
 * mutative requests). Operations through it start only once that window has passed, so
 * each run is timed as an isolated failover rather than as the n-th of a burst.
 */
export class PacingWindow {
  #lastEnd = 0;
  readonly #intervalMs: number;

  constructor(intervalMs = 1010) {
    this.#intervalMs = intervalMs;
  }

  async settle(): Promise<void> {
    const wait = this.#lastEnd + this.#intervalMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  done(): void {
    this.#lastEnd = Date.now();
  }
}
