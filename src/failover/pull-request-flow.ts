import { FailoverError } from "../domain/errors.js";
import { type FailoverPlan, planCommitMessage } from "../domain/plan.js";
import { failoverBranch, pullRequestBody, pullRequestTitle } from "../domain/pull-request-text.js";
import type { ChangeRequestPort, MergeMethod, PullRequestInfo } from "../repo/change-requests.js";
import type { CommitResult, GitOpsRepo } from "../repo/port.js";
import type { FailoverRequest } from "./failover.js";

export interface PullRequestSettings {
  readonly port: ChangeRequestPort;
  readonly mergeMethod: MergeMethod;
  /** When GitHub cannot auto-merge: merge directly, or leave the PR for a reviewer. */
  readonly fallback: "merge" | "review";
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
 * PR mode: the planned change goes on the service's fixed branch, a PR carries it, and
 * GitHub merges it (auto-merge), or we merge it when auto-merge is not possible. An open PR
 * for the service is reused, so asking twice gives one PR, not two.
 */
export async function deliverByPullRequest(
  repo: GitOpsRepo,
  settings: PullRequestSettings,
  base: { branch: string; head: string },
  plan: FailoverPlan,
  request: FailoverRequest,
): Promise<PullRequestOutcome> {
  const { port } = settings;
  const branch = failoverBranch(plan.service);
  const title = pullRequestTitle(plan);
  const body = pullRequestBody(plan, request);
  const message = planCommitMessage(plan, request);

  let pr = await port.findOpenPullRequest(branch, base.branch);
  const reused = pr !== null;
  let headSha: string;
  if (pr !== null) {
    headSha = await updateBranch(repo, branch, plan, message);
    await port.updatePullRequest(pr.number, { title, body });
    pr = { ...pr, headSha };
  } else {
    if ((await port.branchHead(branch)) !== null) await port.deleteBranch(branch); // leftover of a closed PR
    await port.createBranch(branch, base.head);
    headSha = (await commitTo(repo, branch, base.head, plan, message)).sha;
    pr = {
      ...(await port.openPullRequest({ head: branch, base: base.branch, title, body })),
      headSha,
    };
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
    // Left for the next failover of this service (see "leftover of a closed PR" above).
  }
}

/** Puts the planned file on an existing PR branch, unless it is already there. */
async function updateBranch(
  repo: GitOpsRepo,
  branch: string,
  plan: FailoverPlan,
  message: string,
): Promise<string> {
  const snapshot = await repo.read(branch, [plan.path]);
  if (snapshot.files.get(plan.path) === plan.after) return snapshot.head;
  return (await commitTo(repo, branch, snapshot.head, plan, message)).sha;
}

async function commitTo(
  repo: GitOpsRepo,
  branch: string,
  expectedHead: string,
  plan: FailoverPlan,
  message: string,
): Promise<CommitResult> {
  if (!plan.changed) {
    throw new FailoverError("internal", "a pull request needs a change");
  }
  return repo.commit({
    branch,
    expectedHead,
    message,
    changes: [{ path: plan.path, text: plan.after }],
  });
}

/**
 * An open failover PR for a service that has just been moved by other means (an urgent
 * failover, or a PR-mode request that found the base already there) would, once merged,
 * move it again, possibly back. Close it, say why on it, and delete its branch.
 */
export async function closeSupersededPullRequest(
  settings: PullRequestSettings,
  service: string,
  base: string,
  why: string,
): Promise<PullRequestInfo | undefined> {
  const { port } = settings;
  const pr = await port.findOpenPullRequest(failoverBranch(service), base);
  if (pr === null) return undefined;
  await port.closePullRequest(
    pr.number,
    `Closed by failover-api: ${why}, so merging this would move ${service} again.`,
  );
  await port.deleteBranch(pr.headRef).catch(() => undefined);
  return pr;
}
