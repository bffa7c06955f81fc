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
  /**
   * The same files with their blob sha on the branch (null: removed there), so a branch's
   * content can be matched to a plan without reading it. Absent when GitHub gave no shas.
   */
  readonly changedFiles?: readonly { readonly path: string; readonly blobSha: string | null }[];
  /** How many commits the branch has that the base lacks (`ahead` lists at most 100). */
  readonly aheadBy?: number;
}

/**
 * The merge commit's message, pinned, so that a squash or merge commit on the base carries
 * the change's `Failover-*` trailers whatever the repository's default message is.
 * (A rebase merge keeps the branch commits' own messages: nothing to pin.)
 */
export interface MergeCommitMessage {
  readonly title: string;
  readonly body: string;
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
  /**
   * `expectedHead`: arm only while the PR head is this sha (FailoverError "conflict" when it
   * moved), so auto-merge never merges a head the caller did not check.
   */
  enableAutoMerge(
    pr: PullRequestInfo,
    method: MergeMethod,
    pin?: { readonly message?: MergeCommitMessage; readonly expectedHead?: string },
  ): Promise<AutoMergeResult>;
  /**
   * Merges if the head is still `sha`; FailoverError("conflict") when it moved or cannot merge,
   * MergedElsewhereError when another request merged it first.
   */
  merge(
    pr: PullRequestInfo,
    sha: string,
    method: MergeMethod,
    message?: MergeCommitMessage,
  ): Promise<{ sha: string }>;
  /** Whether the repository deletes head branches itself after a merge. */
  deletesBranchOnMerge(): Promise<boolean>;
}
