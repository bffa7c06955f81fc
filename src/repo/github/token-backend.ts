import type { Logger } from "pino";
import type { Env } from "../../config/env.js";
import { FailoverError } from "../../domain/errors.js";
import { type GitHubBackend, gitHubLocation } from "./backend.js";
import { tokenOctokit } from "./token-octokit.js";

/**
 * GitHub mode with GITHUB_TOKEN and no App: one client on the token, built without Probot
 * and without undici (token-octokit.ts). Nothing to renew (a personal token is not minted
 * here) and no webhook to verify, so nothing here needs Probot.
 */
export function createTokenBackend(env: Env, logger: Logger): GitHubBackend {
  if (env.GITHUB_TOKEN === undefined) {
    throw new FailoverError("config_invalid", "token mode needs GITHUB_TOKEN (or set APP_ID)");
  }
  const { target, baseUrl, serverUrl } = gitHubLocation(env);
  const Octokit = tokenOctokit({
    pacing: { minWriteIntervalMs: env.GITHUB_WRITE_INTERVAL_MS },
    retries: env.GITHUB_RETRIES,
    requestTimeoutMs: env.GITHUB_REQUEST_TIMEOUT_MS,
  });
  const octokit = new Octokit({
    auth: env.GITHUB_TOKEN,
    baseUrl,
    log: logger.child({ name: "octokit" }),
  });
  return {
    target,
    client: {
      graphql: (query, variables) => octokit.graphql(query, variables),
      request: (route, parameters) => octokit.request(route, parameters),
    },
    serverUrl,
    receivesWebhooks: false,
  };
}
