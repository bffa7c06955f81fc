import type { IncomingMessage, ServerResponse } from "node:http";
import { resolve } from "node:path";
import { getPrivateKey } from "@probot/get-private-key";
import type { Logger } from "pino";
import { createNodeMiddleware } from "probot";
import { ConfigStore } from "./config/config-store.js";
import type { Env } from "./config/env.js";
import { DEMO_CONFIG, ensureDemoRepo } from "./demo/demo-repo.js";
import { FailoverError } from "./domain/errors.js";
import type { AuditTrail } from "./failover/audit.js";
import { type FailoverContext, memoBranch } from "./failover/context.js";
import { ManifestLocator } from "./failover/locate-manifest.js";
import type { PullRequestSettings } from "./failover/pull-request-flow.js";
import { StatusCache } from "./failover/status-cache.js";
import { fluxReceiverPing } from "./flux/receiver-ping.js";
import { failoverApp } from "./github-app/app-function.js";
import { DeploymentAudit } from "./github-app/deployment-audit.js";
import { createGitHubBackend } from "./github-app/github-backend.js";
import { onGitHubRequest } from "./github-app/github-octokit.js";
import type { Metrics } from "./observability/metrics.js";
import { requestLogger } from "./observability/request-context.js";
import { GitHubChangeRequests } from "./repo/github/change-requests.js";
import { GitHubRepo } from "./repo/github/github-repo.js";
import { LocalGitRepo } from "./repo/local/local-git-repo.js";
import type { GitOpsRepo } from "./repo/port.js";

/** The seed's config location inside the container (ConfigMap mounted at /etc/failover-api). */
export const SEED_CONFIG_PATH = "/etc/failover-api/services.yaml";

export type WebhookMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: Error) => void,
) => unknown;

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
  /** Stops the config watcher and detaches the metrics hooks. */
  close(): void;
}

export interface ComposeOptions {
  /** Counts failovers, GitHub API requests and config reloads. */
  readonly metrics?: Metrics | undefined;
}

/**
 * The composition root: picks the GitOps backend from the environment. With nothing set it
 * builds the embedded demo, so a fresh clone runs without credentials.
 */
export async function composeRuntime(
  env: Env,
  logger: Logger,
  options: ComposeOptions = {},
): Promise<Runtime> {
  const { metrics } = options;
  let repo: GitOpsRepo;
  let backend: Runtime["backend"];
  let repoLocation: string;
  let defaultConfig = SEED_CONFIG_PATH;
  let pullRequests: PullRequestSettings | undefined;
  let audit: AuditTrail | undefined;
  let github: ReturnType<typeof createGitHubBackend> | undefined;
  if (env.GITOPS_REPOSITORY !== undefined) {
    const privateKey =
      env.APP_ID === undefined
        ? undefined
        : (getPrivateKey({
            env: { PRIVATE_KEY: env.PRIVATE_KEY, PRIVATE_KEY_PATH: env.PRIVATE_KEY_PATH },
          }) ?? undefined);
    if (env.APP_ID !== undefined && privateKey === undefined) {
      throw new FailoverError("config_invalid", "APP_ID is set but PRIVATE_KEY(_PATH) gave no key");
    }
    github = createGitHubBackend(env, privateKey, logger);
    const where = { octokit: github.client, ...github.target };
    repo = new GitHubRepo({ ...where, serverUrl: github.serverUrl });
    pullRequests = {
      port: new GitHubChangeRequests(where),
      mergeMethod: env.FAILOVER_MERGE_METHOD,
      fallback: env.FAILOVER_PR_FALLBACK,
    };
    audit = new DeploymentAudit(github.client, github.target);
    backend = "github";
    repoLocation = repo.description;
  } else if (env.GITOPS_REPO_PATH !== undefined) {
    repoLocation = resolve(env.GITOPS_REPO_PATH);
    repo = new LocalGitRepo({ dir: repoLocation });
    backend = "local";
  } else {
    repoLocation = resolve(env.DEMO_REPO ?? ".demo-repo");
    const { created } = await ensureDemoRepo(repoLocation);
    logger.info(
      { repo: repoLocation, created },
      created ? "demo repository created" : "demo repository reused",
    );
    repo = new LocalGitRepo({ dir: repoLocation });
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
    audit,
    onAuditError: (error) => logger.warn({ err: error }, "audit record failed"),
    ...(metrics === undefined
      ? {}
      : {
          observe: (event) =>
            metrics.observeFailover(event, (s) => configStore.current().services.has(s)),
        }),
    ...(env.FLUX_RECEIVER_URL === undefined || env.FLUX_RECEIVER_SECRET === undefined
      ? {}
      : {
          afterChange: fluxReceiverPing({
            url: env.FLUX_RECEIVER_URL,
            secret: env.FLUX_RECEIVER_SECRET,
            timeoutMs: env.FLUX_RECEIVER_TIMEOUT_MS,
            logger: requestLogger(logger),
            ...(metrics === undefined ? {} : { onResult: (r) => metrics.observeFluxPing(r) }),
          }),
        }),
  };
  let webhooks: WebhookMiddleware | undefined;
  if (github?.receivesWebhooks) {
    const app = failoverApp({ ctx, target: github.target, allowedRoles: env.CHATOPS_PERMISSIONS });
    webhooks = await createNodeMiddleware(app, {
      probot: github.probot,
      webhooksPath: env.WEBHOOK_PATH,
    });
  }
  return {
    ctx,
    backend,
    configPath,
    repoLocation,
    webhooks,
    configStore,
    metrics,
    githubProbe:
      github === undefined
        ? undefined
        : () => {
            const { client, target } = github;
            return client.request("GET /repos/{owner}/{repo}", { ...target });
          },
    close: () => {
      configStore.close();
      detachGitHub();
    },
  };
}
