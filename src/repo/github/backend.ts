import type { Env } from "../../config/env.js";
import type { GitHubClient } from "./client.js";

/** GitHub mode's backend, with a token (token-backend.ts) or as a GitHub App (app-backend.ts). */
export interface GitHubBackend {
  /** The GitOps repository (GITOPS_REPOSITORY). */
  readonly target: { readonly owner: string; readonly repo: string };
  /** Authenticated for the GitOps repository (its installation, or the token). */
  readonly client: GitHubClient;
  /** https://github.com, or the GitHub Enterprise host, for web links. */
  readonly serverUrl: string;
  /** Whether webhooks can be verified (a GitHub App with WEBHOOK_SECRET). */
  readonly receivesWebhooks: boolean;
}

/** Where GitHub is and which repository is the GitOps one, the same for both backends. */
export function gitHubLocation(env: Env): {
  readonly target: GitHubBackend["target"];
  /** The REST API's root: api.github.com, or GitHub Enterprise's /api/v3. */
  readonly baseUrl: string;
  readonly serverUrl: string;
} {
  const [owner = "", repo = ""] = (env.GITOPS_REPOSITORY ?? "").split("/");
  const origin = env.GHE_HOST === undefined ? undefined : `${env.GHE_PROTOCOL}://${env.GHE_HOST}`;
  return {
    target: { owner, repo },
    baseUrl: origin === undefined ? "https://api.github.com" : `${origin}/api/v3`,
    serverUrl: origin ?? "https://github.com",
  };
}
