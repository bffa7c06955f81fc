/**
 * What PR mode needs to know about the repository itself: its GraphQL node id (`updateRefs`
 * takes it) and whether GitHub deletes a merged PR's branch. A failover's GraphQL read asks
 * for both at no extra call (GitHubRepo.read with `failover`), so the pull-request port finds
 * them here instead of sending `GET /repos/{owner}/{repo}`; every such read refreshes them.
 */
export interface RepositorySettings {
  readonly id: string;
  readonly deleteBranchOnMerge: boolean;
}

/** Shared by the adapters of one repository (composed once per process). */
export class RepositoryFacts {
  #known: RepositorySettings | undefined;

  learn(settings: RepositorySettings): void {
    this.#known = settings;
  }

  /** The last settings any answer gave, or undefined before the first. */
  known(): RepositorySettings | undefined {
    return this.#known;
  }
}
