import type { Logger } from "pino";
import { Probot, type ProbotOctokit } from "probot";
import type { Env } from "../../config/env.js";
import { FailoverError } from "../../domain/errors.js";
import { type GitHubBackend, gitHubLocation } from "./backend.js";
import type { GitHubClient } from "./client.js";
import { failoverOctokit } from "./octokit-client.js";

export type { GitHubBackend } from "./backend.js";

/** The App's backend: its Probot too, which receives the webhooks. */
export interface AppBackend extends GitHubBackend {
  readonly probot: Probot;
}

/**
 * GitHub App mode (APP_ID and its private key; token mode is token-backend.ts, without
 * Probot): Probot configured from the standard Probot variables. HTTP triggers have no
 * webhook context, so the GitOps repository's installation is looked up once (GET
 * /repos/{owner}/{repo}/installation) and its client reused; Probot's auth renews the
 * installation token as it expires.
 */
export function createGitHubBackend(env: Env, privateKey: string, logger: Logger): AppBackend {
  if (env.APP_ID === undefined) {
    throw new FailoverError("config_invalid", "the GitHub App backend needs APP_ID");
  }
  const { target, baseUrl, serverUrl } = gitHubLocation(env);
  const { owner, repo } = target;
  const probot = new Probot({
    appId: Number(env.APP_ID),
    privateKey,
    secret: env.WEBHOOK_SECRET ?? "",
    webhookPath: env.WEBHOOK_PATH,
    baseUrl,
    Octokit: failoverOctokit({
      pacing: { minWriteIntervalMs: env.GITHUB_WRITE_INTERVAL_MS },
      retries: env.GITHUB_RETRIES,
      requestTimeoutMs: env.GITHUB_REQUEST_TIMEOUT_MS,
    }),
    log: logger.child({ name: "probot" }),
  });

  let installation: Promise<ProbotOctokit> | undefined;
  const authenticated = (): Promise<ProbotOctokit> => {
    installation ??= resolveClient(probot, owner, repo).catch((error: unknown) => {
      installation = undefined; // try again on the next request
      throw error;
    });
    return installation;
  };
  const renewal = installationRenewal();
  const client: GitHubClient = {
    graphql: (query, variables) =>
      renewal.call(authenticated, (octokit) => octokit.graphql(query, variables)),
    request: (route, parameters) =>
      renewal.call(authenticated, (octokit) => octokit.request(route, parameters)),
  };
  return {
    probot,
    target,
    client,
    serverUrl,
    receivesWebhooks: env.WEBHOOK_SECRET !== undefined,
  };
}

/**
 * A 401 to an installation token means the token is no longer good (revoked, the app
 * re-installed, a key rotated): Probot's auth would keep using the cached one until it
 * expires, up to an hour. Instead: mint a new token once (concurrent 401s share one mint, and a
 * request that failed with a token already replaced just retries), then retry the call once.
 */
export function installationRenewal() {
  let generation = 0;
  let minting: Promise<void> | undefined;
  return {
    async call<T>(
      authenticated: () => Promise<ProbotOctokit>,
      send: (octokit: ProbotOctokit) => Promise<T>,
    ): Promise<T> {
      const octokit = await authenticated();
      const seen = generation;
      try {
        return await send(octokit);
      } catch (error) {
        if ((error as { status?: unknown }).status !== 401) throw error;
        if (generation === seen) {
          minting ??= octokit
            .auth({ type: "installation", refresh: true })
            .then(() => {
              generation++;
            })
            .finally(() => {
              minting = undefined;
            });
          await minting;
        }
        return send(octokit);
      }
    },
  };
}

async function resolveClient(probot: Probot, owner: string, repo: string) {
  const app = await probot.auth();
  try {
    const { data } = await app.request("GET /repos/{owner}/{repo}/installation", { owner, repo });
    return probot.auth(data.id);
  } catch (error) {
    const status = (error as { status?: number }).status;
    throw new FailoverError(
      status === 404 ? "config_invalid" : "upstream",
      status === 404
        ? `the GitHub App is not installed on ${owner}/${repo}: install it there (GITOPS_REPOSITORY)`
        : `cannot find the GitHub App's installation on ${owner}/${repo} (HTTP ${status ?? "error"})`,
      { cause: error },
    );
  }
}
