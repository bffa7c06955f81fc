import { FailoverError } from "../domain/errors.js";

/**
 * Pull requests for PR mode: the change lands on a fixed branch per service and reaches the
 * base branch by a merge (auto-merge, a direct merge, or a reviewer). GitHub only.
 */
export interface PullRequestInfo {
  readonly number: number;
  /** GraphQL node id (auto-merge is a GraphQL mutation). */
  readonly nodeId: string;
  readonly url: string;
  readonly headRef: string;
  readonly headSha: string;
  readonly baseRef: string;
}

export type MergeMethod = "merge" | "squash" | "rebase";

/** How a branch stands against its base (GitHub's compare `base...branch`). */
export interface BranchComparison {
  /** Commits on the branch the base does not have, oldest first. */
  readonly ahead: readonly { readonly sha: string; readonly message: string }[];
  /** How many commits the base has that the branch does not. */
  readonly behindBy: number;
  /** Files the branch changes against the merge base. */
  readonly changedPaths: readonly string[];
}

/**
 * The pull request was merged, but not by this merge request: its one send was answered
 * "not mergeable" / "head moved" and the PR turned out merged, so another request merged it.
 */
export class MergedElsewhereError extends FailoverError {
  constructor(pr: number, sha: string) {
    super("conflict", `pull request #${pr} was merged by another request meanwhile`, {
      details: { pr, merge: sha },
    });
    this.name = "MergedElsewhereError";
  }
}

/** What GitHub said to "enable auto-merge". */
export type AutoMergeResult =
  /** Armed: GitHub merges when the branch protection requirements are met. */
  | "armed"
  /** The repository does not allow auto-merge: merge directly or leave for review. */
  | "not_allowed"
  /** Nothing to wait for ("Pull request is in clean status"): merge directly. */
  | "clean";

export interface ChangeRequestPort {
  /** Every open pull request into `base` (the first 100). */
  listOpenPullRequests(base: string): Promise<PullRequestInfo[]>;
  /** The open pull request from `head` into `base`, if any. */
  findOpenPullRequest(head: string, base: string): Promise<PullRequestInfo | null>;
  /** Head sha of a branch, or null when it does not exist. */
  branchHead(branch: string): Promise<string | null>;
  /** What `branch` has that `base` lacks, and how far behind it is. */
  compareBranch(base: string, branch: string): Promise<BranchComparison>;
  /** Creates `branch` at `sha`; FailoverError("conflict") when it already exists. */
  createBranch(branch: string, sha: string): Promise<void>;
  /**
   * Moves `branch` from `from` to `to` (not necessarily a fast-forward) only if it is still at
   * `from`: a compare-and-swap, FailoverError("conflict") when it moved or is gone.
   */
  moveBranch(branch: string, from: string, to: string): Promise<void>;
  /** Deletes `branch`; a branch that is already gone is fine. */
  deleteBranch(branch: string): Promise<void>;
  openPullRequest(request: {
    head: string;
    base: string;
    title: string;
    body: string;
  }): Promise<PullRequestInfo>;
  updatePullRequest(number: number, update: { title: string; body: string }): Promise<void>;
  /** Closes without merging (a failover PR another failover has made obsolete). */
  closePullRequest(number: number, comment: string): Promise<void>;
  enableAutoMerge(pr: PullRequestInfo, method: MergeMethod): Promise<AutoMergeResult>;
  /**
   * Merges if the head is still `sha`; FailoverError("conflict") when it moved or cannot merge,
   * MergedElsewhereError when another request merged it first.
   */
  merge(pr: PullRequestInfo, sha: string, method: MergeMethod): Promise<{ sha: string }>;
  /** Whether the repository deletes head branches itself after a merge. */
  deletesBranchOnMerge(): Promise<boolean>;
}
