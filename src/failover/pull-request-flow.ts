import { failoverBranch } from "../domain/pull-request-text.js";
import type { ChangeRequestPort, MergeMethod, PullRequestInfo } from "../repo/change-requests.js";
import type { CommitResult, GitOpsRepo } from "../repo/port.js";

export interface PullRequestSettings {
  readonly port: ChangeRequestPort;
  readonly mergeMethod: MergeMethod;
  /** When GitHub cannot auto-merge: merge directly, or leave the PR for a reviewer. */
  readonly fallback: "merge" | "review";
}

/** One failover's file changes, ready to go on a branch: a service's, or a node's. */
export interface ChangeSet {
  /** Names the fixed branch, `failover/<key>`: a service name, or `node-<node>`. */
  readonly key: string;
  readonly title: string;
  readonly body: string;
  readonly message: string;
  readonly files: readonly { readonly path: string; readonly after: string }[];
}

export type PullRequestOutcome =
  | { readonly outcome: "pr_opened"; readonly pr: PullRequestInfo; readonly reused: boolean }
  | { readonly outcome: "pr_armed"; readonly pr: PullRequestInfo; readonly reused: boolean }
  | {
      readonly outcome: "pr_merged";
      readonly pr: PullRequestInfo;
      readonly reused: boolean;
      readonly merge: { sha: string };
    };

/**
 * PR mode: the change goes on the fixed branch `failover/<key>`, a PR carries it, and GitHub
 * merges it (auto-merge), or we merge it when auto-merge is not possible. An open PR for the
 * same key is reused, so asking twice gives one PR, not two.
 */
export async function deliverByPullRequest(
  repo: GitOpsRepo,
  settings: PullRequestSettings,
  base: { branch: string; head: string },
  change: ChangeSet,
): Promise<PullRequestOutcome> {
  const { port } = settings;
  const branch = failoverBranch(change.key);
  let pr = await port.findOpenPullRequest(branch, base.branch);
  const reused = pr !== null;
  let headSha: string;
  if (pr !== null) {
    headSha = await updateBranch(repo, branch, change);
    await port.updatePullRequest(pr.number, { title: change.title, body: change.body });
    pr = { ...pr, headSha };
  } else {
    if ((await port.branchHead(branch)) !== null) await port.deleteBranch(branch); // leftover of a closed PR
    await port.createBranch(branch, base.head);
    headSha = (await commitTo(repo, branch, base.head, change)).sha;
    const opened = await port.openPullRequest({
      head: branch,
      base: base.branch,
      title: change.title,
      body: change.body,
    });
    pr = { ...opened, headSha };
  }

  const armed = await port.enableAutoMerge(pr, settings.mergeMethod);
  if (armed === "armed") return { outcome: "pr_armed", pr, reused };
  if (settings.fallback === "review") return { outcome: "pr_opened", pr, reused };
  const merge = await port.merge(pr, headSha, settings.mergeMethod);
  await deleteMergedBranch(port, branch);
  return { outcome: "pr_merged", pr, reused, merge };
}

/**
 * Best effort once merged: the failover is in the base branch, so a failed cleanup must not
 * report it as failed (and invite a retry). A leftover branch is replaced by the next PR.
 */
async function deleteMergedBranch(port: ChangeRequestPort, branch: string): Promise<void> {
  try {
    if (!(await port.deletesBranchOnMerge())) await port.deleteBranch(branch);
  } catch {
    // Left for the next failover with this key (see "leftover of a closed PR" above).
  }
}

/** Puts the planned files on an existing PR branch, unless they are already there. */
async function updateBranch(repo: GitOpsRepo, branch: string, change: ChangeSet): Promise<string> {
  const snapshot = await repo.read(
    branch,
    change.files.map((f) => f.path),
  );
  if (change.files.every((f) => snapshot.files.get(f.path) === f.after)) return snapshot.head;
  return (await commitTo(repo, branch, snapshot.head, change)).sha;
}

function commitTo(
  repo: GitOpsRepo,
  branch: string,
  expectedHead: string,
  change: ChangeSet,
): Promise<CommitResult> {
  return repo.commit({
    branch,
    expectedHead,
    message: change.message,
    changes: change.files.map((f) => ({ path: f.path, text: f.after })),
  });
}

/**
 * An open failover PR that a failover by other means has made obsolete (an urgent
 * failover, or a PR-mode request that found the base already there) would, once merged,
 * move things again, possibly back. Close it, say why on it, and delete its branch.
 */
export async function closeSupersededPullRequest(
  settings: PullRequestSettings,
  key: string,
  base: string,
  why: string,
): Promise<PullRequestInfo | undefined> {
  const pr = await settings.port.findOpenPullRequest(failoverBranch(key), base);
  if (pr === null) return undefined;
  await closeWithReason(settings.port, pr, why);
  return pr;
}

/** The same for several keys (a node-wide failover), with one listing of the open PRs. */
export async function closeSupersededPullRequests(
  settings: PullRequestSettings,
  keys: readonly string[],
  base: string,
  why: (key: string) => string,
): Promise<PullRequestInfo[]> {
  const wanted = new Map(keys.map((key) => [failoverBranch(key), key]));
  const open = (await settings.port.listOpenPullRequests(base)).filter((pr) =>
    wanted.has(pr.headRef),
  );
  for (const pr of open)
    await closeWithReason(settings.port, pr, why(wanted.get(pr.headRef) ?? ""));
  return open;
}

async function closeWithReason(port: ChangeRequestPort, pr: PullRequestInfo, why: string) {
  await port.closePullRequest(
    pr.number,
    `Closed by failover-api: ${why}, so merging this would move it again.`,
  );
  await port.deleteBranch(pr.headRef).catch(() => undefined);
}
