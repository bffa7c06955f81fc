import type { Logger } from "pino";
import type { Runtime } from "../compose.js";
import type { Env } from "../config/env.js";
import { ApiAuth } from "../http/auth.js";
import { RateLimiter } from "../http/rate-limit.js";
import { GitHubCheck } from "./github-check.js";
import { InflightRequests } from "./inflight.js";
import { Metrics } from "./metrics.js";
import { Readiness } from "./readiness.js";

/** What the HTTP server needs to be run in production: see docs/operations.md. */
export interface Operations {
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly inflight: InflightRequests;
  readonly auth: ApiAuth;
  /** Requests that may write (every method but GET and HEAD), per client. */
  readonly rateLimiter: RateLimiter;
  /** GET and HEAD, per client, in their own bucket (FAILOVER_READ_RATE_LIMIT). */
  readonly readRateLimiter: RateLimiter;
  readonly webhookPath: string;
  /** GitHub mode: checks the credentials for readiness once started (`serve` starts it). */
  readonly githubCheck: GitHubCheck | undefined;
  /** Stops the tokens file watcher and the GitHub check. */
  close(): void;
}

/** Builds the operational parts from the environment. Throws when the tokens file is unreadable. */
export function createOperations(env: Env, runtime: Runtime, logger: Logger): Operations {
  const auth = new ApiAuth({
    tokens: env.FAILOVER_API_TOKENS,
    tokensFile: env.FAILOVER_API_TOKENS_FILE,
    protectReads: env.FAILOVER_AUTH_READS,
    protectMetrics: env.FAILOVER_AUTH_METRICS,
    webhookPath: env.WEBHOOK_PATH,
    logger,
  });
  const githubCheck =
    runtime.githubProbe === undefined
      ? undefined
      : new GitHubCheck({
          probe: runtime.githubProbe,
          repository: env.GITOPS_REPOSITORY ?? runtime.repoLocation,
          intervalMs: env.GITHUB_CHECK_INTERVAL_MS,
          logger,
        });
  return {
    metrics: runtime.metrics ?? new Metrics(),
    readiness: new Readiness(() => runtime.configStore.status(), runtime.backend, githubCheck),
    inflight: new InflightRequests(),
    auth,
    rateLimiter: new RateLimiter(env.FAILOVER_RATE_LIMIT),
    readRateLimiter: new RateLimiter(env.FAILOVER_READ_RATE_LIMIT, undefined, "reads"),
    webhookPath: env.WEBHOOK_PATH,
    githubCheck,
    close: () => {
      auth.close();
      githubCheck?.stop();
    },
  };
}
