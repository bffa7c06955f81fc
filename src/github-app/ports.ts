import type { RestClient } from "../repo/github/rest-client.js";

export type { RestClient } from "../repo/github/rest-client.js";

/**
 * What the Probot transport needs from the GitHub adapters, injected by the composition
 * root (src/repo/github/collaborator-permission.ts), so the transport builds no adapter.
 */
export interface ChatOpsPorts {
  /** The sender's role on the repository; a FailoverError when GitHub cannot tell. */
  collaboratorRole(
    client: RestClient,
    repo: { readonly owner: string; readonly repo: string },
    username: string,
  ): Promise<string>;
}
