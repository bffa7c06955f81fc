/** One request to GitHub, as metrics see it: no URL, no token, no body. */
export interface GitHubRequestEvent {
  readonly method: string;
  /** The HTTP status, or `network` when no answer came. */
  readonly status: string;
  readonly failed: boolean;
}

// Apart from the Octokit plugins (octokit-client.ts), so that subscribing loads no Probot.
const requestListeners = new Set<(event: GitHubRequestEvent) => void>();

/** Observes every GitHub API request of every client built here; returns the detach function. */
export function onGitHubRequest(listener: (event: GitHubRequestEvent) => void): () => void {
  requestListeners.add(listener);
  return () => requestListeners.delete(listener);
}

export function emitGitHubRequest(event: GitHubRequestEvent): void {
  for (const listener of requestListeners) {
    try {
      listener(event);
    } catch {
      // an observer never affects a request
    }
  }
}
