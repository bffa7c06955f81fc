import { runFailover } from "../src/failover/failover.js";
import { getStatus } from "../src/failover/status.js";
import { GitHubRepo } from "../src/repo/github/github-repo.js";
import { DEFAULT_ROUTES, type FakeGitHub } from "../test/fake-github/index.js";
import {
  batchedFailover,
  type FileTarget,
  naiveContentsFailover,
  plainOctokit,
} from "./approaches.js";
import { measure, PacingWindow, RssTracker, type Sample } from "./measure.js";
import { type BenchEnvironment, startBenchEnvironment } from "./setup.js";

export interface BenchOptions {
  /** Added by the fake to every GitHub round trip. */
  readonly latencyMs: number;
  /** Timed runs per operation. */
  readonly runs: number;
  /** Generated services besides the demo's two. */
  readonly services: number;
  /**
   * Spacing of mutations in the composed server's Octokit (GITHUB_WRITE_INTERVAL_MS);
   * the production default (1000) when absent. Paced rows start once it has passed.
   */
  readonly writeIntervalMs?: number | undefined;
  /** Only these operation ids (all when absent). */
  readonly only?: readonly string[];
  /** Node-wide rows over HTTP: one node holding each of these many services (1, 5, 20, 50). */
  readonly nodeSizes?: readonly number[];
  readonly onProgress?: (message: string) => void;
}

export interface RowReport {
  readonly id: string;
  readonly operation: string;
  /** What the row measures and what its calls are. */
  readonly note: string;
  readonly samples: readonly Sample[];
  /** Why it was not run (e.g. the fake does not serve PR routes yet). */
  readonly unavailable?: string;
  /** The error that stopped it, when a run failed. */
  readonly error?: string;
  /** The call-count goal (issue 11), in words; the bench fails when a run misses it. */
  readonly goal?: string;
  /** Whether every run met `goal` (undefined: no goal, or no run). */
  readonly goalMet?: boolean;
}

/** A call-count goal: never a time (times vary with the machine; counts do not). */
export interface Goal {
  readonly text: string;
  readonly met: (sample: Sample) => boolean;
}

export interface BenchReport {
  readonly node: string;
  readonly platform: string;
  readonly latencyMs: number;
  readonly runs: number;
  readonly services: number;
  /** GITHUB_WRITE_INTERVAL_MS of the composed server (undefined: its default). */
  readonly writeIntervalMs: number | undefined;
  /** Peak of process.memoryUsage().rss sampled after every run (fake GitHub included). */
  readonly peakRssBytes: number;
  /** The OS's maximum resident set size of the process (process.resourceUsage().maxRSS). */
  readonly maxRssBytes: number;
  readonly rows: readonly RowReport[];
}

/** The REST routes the PR flow (GitHubChangeRequests) calls besides what urgent mode needs. */
export const PR_ROUTES = [
  "GET /repos/{owner}/{repo}/pulls",
  "POST /repos/{owner}/{repo}/pulls",
  "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}",
  "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",
  "POST /repos/{owner}/{repo}/git/refs",
  "DELETE /repos/{owner}/{repo}/git/refs/{ref}",
] as const;

/** PR routes the fake does not serve, checked each time the PR row is about to run. */
export function missingPrRoutes(): string[] {
  const served = new Set(DEFAULT_ROUTES.map((r) => `${r.method} ${r.template}`));
  return PR_ROUTES.filter((route) => !served.has(route));
}

type CompleteChecks = (fake: FakeGitHub) => Promise<ReadonlyMap<number, string>>;

/** The fake's "checks completed" (merges armed PRs), when its PR support provides it. */
async function mergeArmedPullRequests(fake: FakeGitHub): Promise<void> {
  const module = (await import("../test/fake-github/pull-merge.js").catch(() => undefined)) as
    | { completeChecks?: CompleteChecks }
    | undefined;
  await module?.completeChecks?.(fake);
}

interface Operation {
  readonly id: string;
  readonly operation: string;
  readonly note: string;
  /** Goes through the production Octokit, which spaces mutations 1 s apart. */
  readonly paced: boolean;
  readonly goal?: Goal;
  unavailable?(): string | undefined;
  /** Untimed preparation before each run (e.g. reading where the service stands). */
  prepare?(): Promise<void>;
  run(): Promise<string | undefined>;
}

async function api(method: "GET" | "POST", url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) {
    throw new Error(
      `${method} ${url}: HTTP ${response.status} ${JSON.stringify(body.error ?? body)}`,
    );
  }
  return body;
}

function kValues(services: number): number[] {
  const ks = [5, 20].filter((k) => k <= services);
  return ks.length > 0 ? ks : services > 0 ? [services] : [];
}

function operations(env: BenchEnvironment, options: BenchOptions): Operation[] {
  const { fake, runtime, apiUrl } = env;
  const { ctx } = runtime;
  const octokit = plainOctokit(fake.url);
  const repo = new GitHubRepo({
    octokit,
    owner: fake.owner,
    repo: fake.repoName,
    serverUrl: fake.webUrl,
  });
  const where = { owner: fake.owner, repo: fake.repoName, branch: fake.branch };
  const spec = (name: string): FileTarget => {
    const main = ctx.config().services.get(name)?.targets[0];
    if (main?.type !== "workload" || main.path === undefined) {
      throw new Error(`bench: service ${name} needs a workload target with a path`);
    }
    return { path: main.path, target: main.workload };
  };
  const single = "radarr";
  // Where the single service stands, read before each run so every run changes something.
  let action: "promote" | "demote" = "promote";
  const nextAction = async () => {
    const { state } = await getStatus(ctx, single);
    action = state === "primary" ? "promote" : "demote";
  };
  const n = env.services.length;

  const ops: Operation[] = [
    {
      id: "urgent",
      operation: "urgent, 1 service (use case)",
      note: "runFailover with composeRuntime's context: 1 GraphQL read + 1 createCommitOnBranch",
      paced: true,
      goal: { text: "calls <= 2", met: (s) => s.calls <= 2 },
      prepare: nextAction,
      async run() {
        const result = await runFailover(ctx, {
          service: single,
          action,
          dryRun: false,
          trigger: "http",
          requester: "bench",
        });
        return result.outcome;
      },
    },
    {
      id: "urgent-http",
      operation: "urgent, 1 service (HTTP API)",
      note: "POST /api/failover/radarr/{promote|demote}: the failover's 2 GraphQL calls, then the Deployments audit (REST, paced 1 s apart)",
      paced: true,
      goal: { text: "failover calls <= 2", met: (s) => (s.failoverCalls ?? s.calls) <= 2 },
      prepare: nextAction,
      async run() {
        const body = await api("POST", `${apiUrl}/api/failover/${single}/${action}`);
        return String(body.outcome);
      },
    },
    {
      id: "pr-http",
      operation: "PR mode, 1 service (HTTP API)",
      note: "POST /api/failover/radarr/{promote|demote}?mode=pr: leftover-branch check, branch, commit, PR, enable auto-merge, audit; the previous run's PR is merged (untimed) first",
      paced: true,
      goal: { text: "failover calls <= 5", met: (s) => (s.failoverCalls ?? s.calls) <= 5 },
      unavailable() {
        const missing = missingPrRoutes();
        return missing.length === 0 ? undefined : `PR routes missing: ${missing.join(", ")}`;
      },
      async prepare() {
        // GitHub merges an armed PR once checks pass; the fake does it when told. Merging the
        // previous run's PR (untimed) makes every run a fresh PR, alternating the action.
        await mergeArmedPullRequests(fake);
        await nextAction();
      },
      async run() {
        const body = await api("POST", `${apiUrl}/api/failover/${single}/${action}?mode=pr`);
        return String(body.outcome);
      },
    },
    {
      id: "status-sequential",
      operation: `status x${n}, sequential, cold (HTTP API)`,
      note: `GET /api/failover/{service}/status for all ${n} services after the head moved: a conditional ref request and 1 GraphQL read each`,
      paced: false,
      async run() {
        ctx.statusCache?.moved(fake.branch);
        for (const service of env.services)
          await api("GET", `${apiUrl}/api/failover/${service}/status`);
        return undefined;
      },
    },
    {
      id: "status-concurrent",
      operation: `status x${n}, concurrent, warm (HTTP API)`,
      note: `the same ${n} status requests at once, head unchanged: one conditional ref request each, answered 304 (no rate limit), no read`,
      paced: false,
      async run() {
        await Promise.all(
          env.services.map((service) => api("GET", `${apiUrl}/api/failover/${service}/status`)),
        );
        return undefined;
      },
    },
    {
      id: "status-all-cold",
      operation: `GET /api/status (${n} services), cold`,
      note: "every service after the head moved: a conditional ref request and ONE GraphQL read",
      paced: false,
      goal: { text: "GraphQL reads <= 1", met: (s) => s.graphql <= 1 },
      async run() {
        ctx.statusCache?.moved(fake.branch);
        await api("GET", `${apiUrl}/api/status`);
        return undefined;
      },
    },
    {
      id: "status-all-warm",
      operation: `GET /api/status (${n} services), warm`,
      note: "head unchanged: one conditional ref request answered 304, no read",
      paced: false,
      goal: { text: "no read (a 304 at most)", met: (s) => s.graphql === 0 && s.calls <= 1 },
      async run() {
        await api("GET", `${apiUrl}/api/status`);
        return undefined;
      },
    },
    {
      id: "naive-1",
      operation: "naive Contents API, 1 service",
      note: "GET contents + patchTargets + PUT contents with the blob sha: 1 commit per file",
      paced: false,
      run: () => naiveContentsFailover(octokit, where, [spec(single)]),
    },
  ];
  // Node-wide over HTTP: each node's services alternate between their primary and backup.
  for (const [node, names] of env.nodes) {
    let nodeAction: "promote" | "demote" = "promote";
    ops.push({
      id: `node-${names.length}`,
      operation: `node-wide N=${names.length} (HTTP API)`,
      note: `POST /api/nodes/${node}/{demote|promote}: ${names.length} services in one read and one commit, then the audit`,
      paced: true,
      goal: {
        text: "failover calls <= 2, audit calls constant (<= 2)",
        met: (s) => (s.failoverCalls ?? s.calls) <= 2 && (s.auditCalls ?? 0) <= 2,
      },
      async prepare() {
        const first = names[0];
        if (first === undefined) return;
        const { state } = await getStatus(ctx, first);
        // As for the single service: "promote" moves to the backup, "demote" back.
        nodeAction = state === "primary" ? "promote" : "demote";
      },
      async run() {
        const body = await api("POST", `${apiUrl}/api/nodes/${node}/${nodeAction}`);
        return String(body.outcome);
      },
    });
  }
  for (const k of kValues(options.services)) {
    const files = env.generated.slice(0, k).map((g) => spec(g.name));
    ops.push(
      {
        id: `batched-${k}`,
        operation: `node-wide K=${k}: batched (GitHubRepo)`,
        note: `GitHubRepo.read of ${k} files + one createCommitOnBranch with ${k} changes`,
        paced: false,
        run: () => batchedFailover(repo, where.branch, files),
      },
      {
        id: `naive-${k}`,
        operation: `node-wide K=${k}: naive Contents API`,
        note: `${k} x (GET contents + PUT contents), sequential: ${k} commits`,
        paced: false,
        run: () => naiveContentsFailover(octokit, where, files),
      },
    );
  }
  return ops;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.onProgress ?? (() => undefined);
  const rss = new RssTracker();
  const pacing = new PacingWindow((options.writeIntervalMs ?? 1000) + 10);
  const env = await startBenchEnvironment({
    services: options.services,
    latencyMs: options.latencyMs,
    writeIntervalMs: options.writeIntervalMs,
  });
  const rows: RowReport[] = [];
  try {
    await warmUp(env);
    rss.sample();
    rows.push(...(await runOperations(env, operations(env, options), options, pacing, rss, log)));
  } finally {
    await env.close();
  }
  // Node-wide rows in a repository of their own: their services would otherwise weigh on
  // the status-of-all rows above (which are about the --services count).
  const sizes = (options.nodeSizes ?? []).filter(
    (n) => options.only === undefined || options.only.includes(`node-${n}`),
  );
  if (sizes.length > 0) {
    const nodeEnv = await startBenchEnvironment({
      services: 0,
      latencyMs: options.latencyMs,
      writeIntervalMs: options.writeIntervalMs,
      nodeSizes: sizes,
    });
    try {
      await warmUp(nodeEnv);
      const ops = operations(nodeEnv, options).filter((op) => op.id.startsWith("node-"));
      rows.push(...(await runOperations(nodeEnv, ops, options, pacing, rss, log)));
    } finally {
      await nodeEnv.close();
    }
  }
  return {
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    latencyMs: options.latencyMs,
    runs: options.runs,
    services: env.services.length,
    writeIntervalMs: options.writeIntervalMs,
    peakRssBytes: rss.peakBytes,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    rows,
  };
}

/**
 * Untimed: the branch lookup, the search for sonarr's manifest (cached after), connections,
 * and GraphQL schema construction in the fake.
 */
async function warmUp(env: BenchEnvironment): Promise<void> {
  await api("GET", `${env.apiUrl}/api/health`);
  for (const service of env.services) {
    await api("GET", `${env.apiUrl}/api/failover/${service}/status`);
  }
}

async function runOperations(
  env: BenchEnvironment,
  ops: readonly Operation[],
  options: BenchOptions,
  pacing: PacingWindow,
  rss: RssTracker,
  log: (line: string) => void,
): Promise<RowReport[]> {
  const rows: RowReport[] = [];
  for (const op of ops) {
    if (options.only !== undefined && !options.only.includes(op.id)) continue;
    const base = { id: op.id, operation: op.operation, note: op.note };
    const unavailable = op.unavailable?.();
    if (unavailable !== undefined) {
      log(`${op.operation}: n/a (${unavailable})`);
      rows.push({ ...base, samples: [], unavailable });
      continue;
    }
    const samples: Sample[] = [];
    let error: string | undefined;
    for (let i = 0; i < options.runs; i++) {
      try {
        await op.prepare?.();
        if (op.paced) await pacing.settle();
        samples.push(
          await measure(
            env.fake,
            () => op.run(),
            () => env.runtime.background.idle(),
          ),
        );
      } catch (e) {
        error = message(e);
        break;
      } finally {
        if (op.paced) pacing.done();
        rss.sample();
      }
    }
    const goal =
      op.goal === undefined || samples.length === 0
        ? {}
        : { goal: op.goal.text, goalMet: samples.every((s) => op.goal?.met(s) === true) };
    log(
      `${op.operation}: ${samples.length} run(s)${error === undefined ? "" : `, failed: ${error}`}`,
    );
    rows.push({ ...base, samples, ...goal, ...(error === undefined ? {} : { error }) });
  }
  return rows;
}
