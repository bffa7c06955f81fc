import { resolve } from "node:path";
import type { Logger } from "pino";
import {
  type Automation,
  type AutomationOptions,
  composeAutomation,
} from "./automation/compose-automation.js";
import { deploymentStatusOnPhase } from "./automation/deployment-status.js";
import type { ReplyConfirmations } from "./automation/reply-confirmation.js";
import { inClusterReader, type KubeReader } from "./cluster/kube-reader.js";
import { backupNodeSelector, rpoCheck } from "./cluster/rpo-check.js";
import { serviceAutomation } from "./config/automation-config.js";
import { ConfigStore } from "./config/config-store.js";
import type { Env } from "./config/env.js";
import { DEMO_CONFIG, ensureDemoRepo } from "./demo/demo-repo.js";
import { FailoverError } from "./domain/errors.js";
import { reconcileAudit } from "./failover/audit-reconcile.js";
import type { AuditTrail } from "./failover/audit-trail.js";
import { BackgroundWork } from "./failover/background.js";
import { type FailoverContext, memoBranch } from "./failover/context.js";
import { FailoverEvents } from "./failover/event-bus.js";
import { auditListener } from "./failover/listeners/audit.js";
import { fluxPingListener } from "./failover/listeners/flux-ping.js";
import { logLineListener } from "./failover/listeners/log-line.js";
import { supersededPullRequestsListener } from "./failover/listeners/superseded-pull-requests.js";
import { ManifestLocator } from "./failover/locate-manifest.js";
import type { PullRequestSettings } from "./failover/pull-request-flow.js";
import { StatusCache } from "./failover/status-cache.js";
import { fluxReceiverPing } from "./flux/receiver-ping.js";
import { ApiAuth } from "./http/auth.js";
import { RateLimiter } from "./http/rate-limit.js";
import { GitHubCheck } from "./observability/github-check.js";
import { InflightRequests } from "./observability/inflight.js";
import { Metrics } from "./observability/metrics.js";
import { Readiness } from "./observability/readiness.js";
import { requestLogger } from "./observability/request-context.js";
import type { AppBackend } from "./repo/github/app-backend.js";
import type { GitHubBackend } from "./repo/github/backend.js";
import { onGitHubRequest } from "./repo/github/request-events.js";
import { LocalGitRepo } from "./repo/local/local-git-repo.js";
import type { GitOpsRepo } from "./repo/port.js";
import type { Operations, WebhookMiddleware } from "./server.js";

/** The seed's config location inside the container (ConfigMap mounted at /etc/failover-api). */
export const SEED_CONFIG_PATH = "/etc/failover-api/services.yaml";

export type { WebhookMiddleware } from "./server.js";

export interface Runtime {
  readonly ctx: FailoverContext;
  readonly backend: "demo" | "local" | "github";
  readonly configPath: string;
  /** Where the repository is: a directory, or owner/name on GitHub. */
  readonly repoLocation: string;
  /** Probot's webhook handler (GitHub App mode with WEBHOOK_SECRET), mounted at WEBHOOK_PATH. */
  readonly webhooks: WebhookMiddleware | undefined;
  /** The services config, reloadable (`configStore.watch()` follows the file). */
  readonly configStore: ConfigStore;
  readonly metrics: Metrics | undefined;
  /** GitHub mode: `GET /repos/{owner}/{repo}` with the runtime's credentials (readiness). */
  readonly githubProbe: (() => Promise<unknown>) | undefined;
  /**
   * What runs after an answer: event listeners (audit, Flux ping, superseded PRs, metrics,
   * log line) and acknowledged webhooks' commands. `idle()` in tests, `drain(ms)` on SIGTERM.
   */
  readonly background: BackgroundWork;
  /** The closed loop: Alertmanager trigger, operations, Flux confirmation, notifications. */
  readonly automation: Automation | undefined;
  /**
   * GitHub mode: rebuilds the audit from Git in the background (a failover commit with no
   * Deployment gets one). `serve` calls it on start; it never blocks readiness.
   */
  readonly reconcileAudit: (() => void) | undefined;
  /**
   * Stops the config watcher, detaches the metrics hooks and closes the closed loop, waiting
   * for the notifications still in flight (often about this very pod's node going down).
   */
  close(): Promise<void>;
}

export interface ComposeOptions {
  /** Counts failovers, GitHub API requests and config reloads. */
  readonly metrics?: Metrics | undefined;
  /**
   * The closed loop's options (tests: a fake Kubernetes API, a clock, local sinks); `false`
   * when the caller composes the loop itself (a test that restarts it).
   */
  readonly automation?: AutomationOptions | false | undefined;
  /**
   * Cluster access for the RPO gate (manual promotes, and the loop's unless its options
   * give one): default the in-cluster service account, if mounted; undefined: none.
   */
  readonly kube?: KubeReader | undefined;
}

/**
 * The composition root, the one place that builds concrete adapters: picks the GitOps
 * backend from the environment and subscribes the after-effects to the failover events.
 * With nothing set it builds the embedded demo, so a fresh clone runs without credentials.
 * GitHub's modules are loaded only in GitHub mode, and Probot (400 ms to import, ~20 MB)
 * only in GitHub App mode.
 */
export async function composeRuntime(
  env: Env,
  logger: Logger,
  options: ComposeOptions = {},
): Promise<Runtime> {
  const { metrics } = options;
  const background = new BackgroundWork((error, what) =>
    logger.warn({ err: error, what }, "background work failed; the answer given stands"),
  );
  const events = new FailoverEvents(background);
  let repo: GitOpsRepo;
  let backend: Runtime["backend"];
  let repoLocation: string;
  let defaultConfig = SEED_CONFIG_PATH;
  let pullRequests: PullRequestSettings | undefined;
  let audit: AuditTrail | undefined;
  let github: Awaited<ReturnType<typeof composeGitHub>> | undefined;
  if (env.GITOPS_REPOSITORY !== undefined) {
    github = await composeGitHub(env, logger);
    repo = github.repo;
    pullRequests = github.pullRequests;
    audit = github.audit;
    backend = "github";
    repoLocation = repo.description;
  } else if (env.GITOPS_REPO_PATH !== undefined) {
    repoLocation = resolve(env.GITOPS_REPO_PATH);
    repo = new LocalGitRepo({ dir: repoLocation, onWarning: localRepoWarning(logger) });
    backend = "local";
  } else {
    repoLocation = resolve(env.DEMO_REPO ?? ".demo-repo");
    const { created } = await ensureDemoRepo(repoLocation);
    logger.info(
      { repo: repoLocation, created },
      created ? "demo repository created" : "demo repository reused",
    );
    repo = new LocalGitRepo({ dir: repoLocation, onWarning: localRepoWarning(logger) });
    backend = "demo";
    defaultConfig = DEMO_CONFIG;
  }
  const configPath = resolve(env.FAILOVER_CONFIG ?? defaultConfig);
  const configStore = await ConfigStore.open(configPath, {
    logger,
    ...(metrics === undefined ? {} : { onReload: (r, s) => metrics.observeConfig(r, s) }),
  });
  const detachGitHub =
    metrics === undefined ? () => undefined : onGitHubRequest((e) => metrics.observeGitHub(e));
  const branchSetting = env.GITOPS_BRANCH;
  const kube = "kube" in options ? options.kube : inClusterReader();
  const ctx: FailoverContext = {
    repo,
    branch: memoBranch(async () => branchSetting ?? (await repo.defaultBranch())),
    config: () => configStore.current(),
    maxAttempts: env.FAILOVER_MAX_ATTEMPTS,
    budgetMs: env.FAILOVER_BUDGET_MS,
    locator: new ManifestLocator(),
    statusCache: new StatusCache(),
    defaultMode: env.FAILOVER_MODE,
    pullRequests,
    events,
    background,
    // The RPO gate of a manual promote: two read-only GETs through src/cluster's reader.
    rpo: (spec, { now, acceptDataLoss }) =>
      rpoCheck(
        {
          name: spec.name,
          namespace: spec.namespace,
          backupNodeSelector: backupNodeSelector(spec),
          maxRpoMs: serviceAutomation(configStore.current(), spec.name).maxRpoMs,
        },
        { kube, now, automatic: false, acceptDataLoss },
      ),
  };

  // The after-effects. Flux first: the reconcile ping is what makes the failover happen
  // sooner (listeners run concurrently; none waits for another).
  const log = requestLogger(logger);
  if (env.FLUX_RECEIVER_URL !== undefined && env.FLUX_RECEIVER_SECRET !== undefined) {
    events.on(
      fluxPingListener(
        fluxReceiverPing({
          url: env.FLUX_RECEIVER_URL,
          secret: env.FLUX_RECEIVER_SECRET,
          timeoutMs: env.FLUX_RECEIVER_TIMEOUT_MS,
          logger: log,
          ...(metrics === undefined ? {} : { onResult: (r) => metrics.observeFluxPing(r) }),
        }),
      ),
    );
  }
  if (pullRequests !== undefined) events.on(supersededPullRequestsListener(pullRequests));
  if (audit !== undefined) events.on(auditListener(audit));
  if (metrics !== undefined) {
    events.on(metrics.failoverListener((s) => configStore.current().services.has(s)));
  }
  events.on(logLineListener(log));
  // Flux's word on an operation ends its Deployment and edits its ChatOps reply, after the
  // answer like every after-effect (the background queue, drained on SIGTERM).
  const later = (what: string, task: () => Promise<unknown>) => background.run(what, task);
  // ChatOps replies exist only where webhooks arrive: their module (with the Markdown
  // presenter and the comment parser's Markdown reader) is not loaded otherwise.
  const replies: ReplyConfirmations | undefined = github?.receivesWebhooks
    ? new (await import("./automation/reply-confirmation.js")).ReplyConfirmations(later)
    : undefined;
  const settleAudit = audit === undefined ? () => undefined : deploymentStatusOnPhase(audit, later);
  // The closed loop's listeners: operations (and their Flux confirmation) and notifications.
  const automation =
    options.automation === false
      ? undefined
      : composeAutomation(ctx, env, logger, {
          ...(metrics === undefined ? {} : { registry: metrics.registry }),
          kube,
          ...options.automation,
          onPhase: (op, phase) => {
            settleAudit(op, phase);
            replies?.onPhase(op, phase);
          },
        });
  for (const listener of automation?.listeners ?? []) events.on(listener);

  let webhooks: WebhookMiddleware | undefined;
  if (github?.receivesWebhooks && replies !== undefined) {
    webhooks = await github.webhooks({
      ctx,
      allowedRoles: env.CHATOPS_PERMISSIONS,
      background,
      onStatus: automation?.statusHandler,
      replies,
    });
  }
  const trail = audit;
  return {
    ctx,
    backend,
    configPath,
    repoLocation,
    webhooks,
    configStore,
    metrics,
    githubProbe: github?.probe,
    background,
    automation,
    reconcileAudit:
      trail === undefined
        ? undefined
        : () =>
            background.run("audit reconcile", async () => {
              try {
                const done = await reconcileAudit({
                  repo,
                  branch: ctx.branch,
                  trail,
                  pendingWindowMs: env.FLUX_CONFIRM_TIMEOUT_MS,
                });
                if (done.created.length > 0) {
                  logger.info(
                    { operations: done.created },
                    "audit rebuilt from Git: Deployments created for failover commits that had none",
                  );
                }
              } catch (error) {
                logger.warn(
                  { err: error },
                  "cannot rebuild the audit from Git; will retry on the next start",
                );
              }
            }),
    close: async () => {
      configStore.close();
      detachGitHub();
      await automation?.close();
    },
  };
}

/** GitHub mode's adapters, from modules loaded only now. */
async function composeGitHub(env: Env, logger: Logger) {
  const [{ GitHubRepo }, { GitHubChangeRequests }, { DeploymentAudit }, github] = await Promise.all(
    [
      import("./repo/github/github-repo.js"),
      import("./repo/github/change-requests.js"),
      import("./repo/github/deployment-audit.js"),
      env.APP_ID === undefined ? tokenBackend(env, logger) : appBackend(env, logger),
    ],
  );
  const where = { octokit: github.client, ...github.target };
  const repo = new GitHubRepo({ ...where, serverUrl: github.serverUrl });
  const pullRequests: PullRequestSettings = {
    // The repository's node id and settings come with the failover's read (repo.facts).
    port: new GitHubChangeRequests({ ...where, facts: repo.facts }),
    mergeMethod: env.FAILOVER_MERGE_METHOD,
    fallback: env.FAILOVER_PR_FALLBACK,
  };
  return {
    repo: repo as GitOpsRepo,
    pullRequests,
    audit: new DeploymentAudit(github.client, github.target) as AuditTrail,
    receivesWebhooks: github.receivesWebhooks,
    probe: () => github.client.request("GET /repos/{owner}/{repo}", { ...github.target }),
    /**
     * The Probot transport (ChatOps, dispatch, push), mounted at WEBHOOK_PATH. Only an App
     * receives webhooks (receivesWebhooks), so only App mode ever imports Probot.
     */
    webhooks: async (deps: {
      ctx: FailoverContext;
      allowedRoles: readonly string[];
      background: BackgroundWork;
      onStatus: ((context: { payload: unknown }) => Promise<void>) | undefined;
      replies: ReplyConfirmations;
    }): Promise<WebhookMiddleware> => {
      if (github.probot === undefined) {
        throw new FailoverError("config_invalid", "webhooks need a GitHub App (APP_ID)");
      }
      const { probot } = github;
      const [{ createNodeMiddleware }, { failoverApp }, { collaboratorRole }] = await Promise.all([
        import("probot"),
        import("./github-app/app-function.js"),
        import("./repo/github/collaborator-permission.js"),
      ]);
      const app = failoverApp({ ...deps, target: github.target, ports: { collaboratorRole } });
      return createNodeMiddleware(app, { probot, webhooksPath: env.WEBHOOK_PATH });
    },
  };
}

/**
 * Token mode (GITHUB_TOKEN, no APP_ID): a plain Octokit, no Probot. Without an App no webhook
 * can be verified, so Probot (with its webhooks and App auth, ~20 MB of idle memory) would
 * be loaded for nothing (issue 11).
 */
async function tokenBackend(
  env: Env,
  logger: Logger,
): Promise<GitHubBackend & { probot?: undefined }> {
  const { createTokenBackend } = await import("./repo/github/token-backend.js");
  return createTokenBackend(env, logger);
}

/** App mode: Probot's Octokit, its auth (installation tokens) and its webhooks. */
async function appBackend(env: Env, logger: Logger): Promise<AppBackend> {
  const [{ getPrivateKey }, { createGitHubBackend }] = await Promise.all([
    import("@probot/get-private-key"),
    import("./repo/github/app-backend.js"),
  ]);
  const privateKey =
    getPrivateKey({
      env: { PRIVATE_KEY: env.PRIVATE_KEY, PRIVATE_KEY_PATH: env.PRIVATE_KEY_PATH },
    }) ?? undefined;
  if (privateKey === undefined) {
    throw new FailoverError("config_invalid", "APP_ID is set but PRIVATE_KEY(_PATH) gave no key");
  }
  return createGitHubBackend(env, privateKey, logger);
}

/**
 * The operational parts of the HTTP server from the environment (docs/operations.md).
 * Throws when the tokens file is unreadable.
 */
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

/** The local adapter's warnings (recovery after a dead process, a work tree left as it was). */
function localRepoWarning(logger: Logger): (message: string, error: unknown) => void {
  return (message, error) =>
    error === undefined ? logger.warn(message) : logger.warn({ err: error }, message);
}
