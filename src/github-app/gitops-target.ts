/** The GitOps repository the app acts on: events from other repositories are ignored. */
export interface GitOpsTarget {
  readonly owner: string;
  readonly repo: string;
}

export function isGitOpsRepository(target: GitOpsTarget, fullName: string): boolean {
  return fullName.toLowerCase() === `${target.owner}/${target.repo}`.toLowerCase();
}
