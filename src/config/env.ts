import { z } from "zod";
import { FailoverError } from "../domain/errors.js";

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/** Trimmed, but set-and-empty stays "" (not unset): a setting that must not fail open. */
const presentString = z
  .string()
  .optional()
  .transform((v) => v?.trim());

/** `true`/`false` (also 1/0, yes/no); unset or empty is false. */
const booleanFlag = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const value = v?.trim().toLowerCase() ?? "";
    if (value === "" || value === "false" || value === "0" || value === "no") return false;
    if (value === "true" || value === "1" || value === "yes") return true;
    ctx.addIssue({ code: "custom", message: "must be true or false" });
    return z.NEVER;
  });

/** Process settings from the environment (names in .env.example). */
export const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: optionalString,
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  FAILOVER_CONFIG: optionalString,
  DEMO_REPO: optionalString,
  GITOPS_REPO_PATH: optionalString,
  GITOPS_BRANCH: optionalString,
  FAILOVER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  // GitHub mode: a GitHub App (APP_ID + private key) or a plain token.
  GITOPS_REPOSITORY: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, "must be owner/name")
      .optional(),
  ),
  APP_ID: optionalString.pipe(z.string().regex(/^\d+$/, "must be the numeric App ID").optional()),
  PRIVATE_KEY: optionalString,
  PRIVATE_KEY_PATH: optionalString,
  WEBHOOK_SECRET: optionalString,
  WEBHOOK_PATH: z.string().startsWith("/").default("/api/github/webhooks"),
  GITHUB_TOKEN: optionalString,
  GHE_HOST: optionalString,
  GHE_PROTOCOL: z.enum(["https", "http"]).default("https"),
  /** urgent: commit on the branch; pr: open an auto-merging pull request. */
  /** GitHub asks integrators to space mutative requests by at least a second. */
  GITHUB_WRITE_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /** Retries of a GitHub request that failed with 5xx or a network error (1 s, 4 s, 9 s, ...). */
  GITHUB_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  /** Bound on one GitHub API call, its retries included: then 504 `timeout`. */
  GITHUB_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(10_000),
  /** Bound on one failover (read, write, PR flow); under Home Assistant's 30 s. */
  FAILOVER_BUDGET_MS: z.coerce.number().int().min(1).max(600_000).default(25_000),
  FAILOVER_MODE: z.enum(["urgent", "pr"]).default("urgent"),
  FAILOVER_MERGE_METHOD: z.enum(["merge", "squash", "rebase"]).default("squash"),
  /** When auto-merge is unavailable: merge the PR directly, or leave it for a reviewer. */
  FAILOVER_PR_FALLBACK: z.enum(["merge", "review"]).default("merge"),
  /** Collaborator permissions allowed to run ChatOps commands. */
  CHATOPS_PERMISSIONS: z
    .string()
    .default("write,maintain,admin")
    .transform((v) =>
      v
        .split(",")
        .map((p) => p.trim())
        .filter((p) => p !== ""),
    )
    .pipe(z.array(z.enum(["read", "triage", "write", "maintain", "admin"])).min(1)),
  // --- Operations (docs/operations.md) ---
  /** HTTP API bearer tokens, comma-separated (`token` or `name:token`), several for rotation. */
  // Set but holding no token (",", "#x", "") is refused at start (ApiAuth), never "auth off".
  FAILOVER_API_TOKENS: presentString,
  /** A mounted Secret with one token (or `name:token`) per line; re-read when it changes. */
  FAILOVER_API_TOKENS_FILE: presentString,
  /** GET endpoints need a token too (health and readiness never do). */
  FAILOVER_AUTH_READS: booleanFlag,
  /** `/metrics` needs a token too. */
  FAILOVER_AUTH_METRICS: booleanFlag,
  /** POST requests a minute per client address (a token bucket); 0 disables the limit. */
  FAILOVER_RATE_LIMIT: z.coerce.number().int().min(0).max(100_000).default(60),
  /** GET/HEAD requests a minute per client address (its own bucket; not the probes); 0 disables. */
  FAILOVER_READ_RATE_LIMIT: z.coerce.number().int().min(0).max(100_000).default(300),
  /** Watch FAILOVER_CONFIG's directory and reload it when it changes (ConfigMap updates). */
  FAILOVER_CONFIG_WATCH: booleanFlag.default(true),
  /** GitHub mode: how often readiness re-checks the credentials and the repository; 0: at start only. */
  GITHUB_CHECK_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(300_000),
  /** Bound on waiting for requests in flight at SIGTERM/SIGINT. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(25_000),
  /** Time readiness is 503 while still accepting, before the server stops accepting. */
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(120_000).default(0),
  /** A Flux notification-controller Receiver (type generic-hmac) to ping after a change. */
  FLUX_RECEIVER_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** The Receiver's secret token (the HMAC key). */
  FLUX_RECEIVER_SECRET: optionalString,
  FLUX_RECEIVER_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
  // --- Closed loop (docs/automation.md) ---
  /** The HMAC key of the Flux `generic-hmac` Provider posting to POST /api/flux/events. */
  FLUX_EVENTS_SECRET: optionalString,
  /** A committed failover with no Flux reconcile reported this long is `unconfirmed`. */
  FLUX_CONFIRM_TIMEOUT_MS: z.coerce.number().int().min(1000).max(86_400_000).default(600_000),
  /** Shoutrrr-style notification URLs, comma-separated (never logged: they hold tokens). */
  // Set-and-empty is refused (parseNotifyUrls), not read as "no notifications".
  FAILOVER_NOTIFY: presentString,
  FAILOVER_NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /**
   * Alertmanager's base URL (`http://alertmanager-operated.monitoring.svc:9093`): before an
   * automatic failback its API (`GET /api/v2/alerts`, read only) is asked whether a node-down
   * alert for the node still fires, whichever replica it was sent to.
   */
  FAILOVER_ALERTMANAGER_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
});
export type Env = z.infer<typeof envSchema>;

export function parseEnv(source: NodeJS.ProcessEnv): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new FailoverError("config_invalid", `invalid environment: ${problems}`);
  }
  const env = result.data;
  if (
    env.GITOPS_REPOSITORY !== undefined &&
    env.GITHUB_TOKEN === undefined &&
    env.APP_ID === undefined
  ) {
    throw new FailoverError(
      "config_invalid",
      "GITOPS_REPOSITORY is set but there are no GitHub credentials: set APP_ID with PRIVATE_KEY or PRIVATE_KEY_PATH (a GitHub App), or GITHUB_TOKEN",
    );
  }
  if (
    env.APP_ID !== undefined &&
    env.PRIVATE_KEY === undefined &&
    env.PRIVATE_KEY_PATH === undefined
  ) {
    throw new FailoverError(
      "config_invalid",
      "APP_ID is set: also set PRIVATE_KEY or PRIVATE_KEY_PATH",
    );
  }
  if ((env.FLUX_RECEIVER_URL === undefined) !== (env.FLUX_RECEIVER_SECRET === undefined)) {
    throw new FailoverError(
      "config_invalid",
      "FLUX_RECEIVER_URL and FLUX_RECEIVER_SECRET go together: a generic-hmac Receiver needs both",
    );
  }
  return env;
}
