import { resolve } from "node:path";
import type { Logger } from "pino";
import type { Env } from "./config/env.js";
import { loadServicesConfig } from "./config/load-services.js";
import { DEMO_CONFIG, ensureDemoRepo } from "./demo/demo-repo.js";
import { type FailoverContext, memoBranch } from "./failover/context.js";
import { ManifestLocator } from "./failover/locate-manifest.js";
import { LocalGitRepo } from "./repo/local/local-git-repo.js";
import type { GitOpsRepo } from "./repo/port.js";

/** The seed's config location inside the container (ConfigMap mounted at /etc/failover-api). */
export const SEED_CONFIG_PATH = "/etc/failover-api/services.yaml";

export interface Runtime {
  readonly ctx: FailoverContext;
  readonly backend: "demo" | "local";
  readonly configPath: string;
  /** Where the demo or local repository is, for the start-up banner. */
  readonly repoDir: string;
}

/**
 * The composition root: picks the GitOps backend from the environment. With nothing set it
 * builds the embedded demo, so a fresh clone runs without credentials.
 */
export async function composeRuntime(env: Env, logger: Logger): Promise<Runtime> {
  let repo: GitOpsRepo;
  let backend: Runtime["backend"];
  let repoDir: string;
  let defaultConfig: string;
  if (env.GITOPS_REPO_PATH !== undefined) {
    repoDir = resolve(env.GITOPS_REPO_PATH);
    repo = new LocalGitRepo({ dir: repoDir });
    backend = "local";
    defaultConfig = SEED_CONFIG_PATH;
  } else {
    repoDir = resolve(env.DEMO_REPO ?? ".demo-repo");
    const { created } = await ensureDemoRepo(repoDir);
    logger.info(
      { repoDir, created },
      created ? "demo repository created" : "demo repository reused",
    );
    repo = new LocalGitRepo({ dir: repoDir });
    backend = "demo";
    defaultConfig = DEMO_CONFIG;
  }
  const configPath = resolve(env.FAILOVER_CONFIG ?? defaultConfig);
  const config = await loadServicesConfig(configPath);
  const branchSetting = env.GITOPS_BRANCH;
  const ctx: FailoverContext = {
    repo,
    branch: memoBranch(async () => branchSetting ?? (await repo.defaultBranch())),
    config: () => config,
    maxAttempts: env.FAILOVER_MAX_ATTEMPTS,
    locator: new ManifestLocator(),
    defaultMode: env.FAILOVER_MODE,
    pullRequests: undefined,
  };
  return { ctx, backend, configPath, repoDir };
}
