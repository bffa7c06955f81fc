import { createHash } from "node:crypto";
import { FailoverError, StaleHeadError } from "../domain/errors.js";
import { failoverBranch } from "../domain/pull-request-text.js";
import {
  type BranchComparison,
  type ChangeRequestPort,
  type MergeCommitMessage,
  MergedElsewhereError,
  type MergeMethod,
  type PullRequestInfo,
} from "../repo/change-requests.js";
import type { CommitResult, FailoverBranchState, GitOpsRepo } from "../repo/port.js";

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

/**
 * The base branch as the failover's read saw it. With the read's failover fields (GitHub),
 * the flow needs no lookup of its own: PR mode is then read, branch, commit, PR, auto-merge.
 */
export interface BaseAtRead {
  readonly branch: string;
  readonly head: string;
  /** Snapshot.openFailoverPullRequests: absent means unknown (then the port is asked). */
  readonly openFailoverPullRequests?: readonly PullRequestInfo[] | undefined;
  /** Snapshot.failoverBranches: absent means unknown. */
  readonly failoverBranches?: ReadonlyMap<string, FailoverBranchState> | undefined;
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

/** Only the PR outcome's own fields, out of a larger value that carries one (a delivery). */
export function pullRequestOutcomeOf(d: PullRequestOutcome): PullRequestOutcome {
  return d.outcome === "pr_merged"
    ? { outcome: d.outcome, pr: d.pr, reused: d.reused, merge: d.merge }
    : { outcome: d.outcome, pr: d.pr, reused: d.reused };
}

/**
 * PR mode: the change goes on the fixed branch `failover/<key>`, a PR carries it, and GitHub
 * merges it (auto-merge), or we merge it when auto-merge is not possible. An open PR for the
 * same key is reused, so asking twice gives one PR, not two.
 *
 * Concurrent requests for the same key (or a request meeting what a killed one left) race on
 * the branch and the PR. Each step is a compare-and-swap or refuses to overwrite (branch
 * creation, a commit with an expected head, a merge pinned to a head sha); losing one throws
 * a StaleHeadError, on which the caller re-reads the base and plans again: then the base has
 * the change (`no_op`, as in urgent mode) or the other request's PR is there to reuse.
 */
export async function deliverByPullRequest(
  repo: GitOpsRepo,
  settings: PullRequestSettings,
  base: BaseAtRead,
  change: ChangeSet,
): Promise<PullRequestOutcome> {
  const { port } = settings;
  const branch = failoverBranch(change.key);
  const raced = (error: unknown): never => {
    if (error instanceof StaleHeadError) throw error;
    if (
      error instanceof FailoverError &&
      (error.code === "conflict" || error.code === "not_found")
    ) {
      throw new StaleHeadError(branch, base.head, undefined);
    }
    throw error;
  };
  let pr =
    base.openFailoverPullRequests === undefined
      ? await port.findOpenPullRequest(branch, base.branch)
      : (base.openFailoverPullRequests.find((p) => p.headRef === branch) ?? null);
  const reused = pr !== null;
  let headSha: string;
  if (pr !== null) {
    headSha = await openBranch(repo, port, base, pr, change, raced);
    await port.updatePullRequest(pr.number, { title: change.title, body: change.body });
    pr = { ...pr, headSha };
  } else {
    const existing: FailoverBranchState | null =
      base.failoverBranches === undefined
        ? await port
            .branchHead(branch)
            .then((head) => (head === null ? null : { head, unmerged: undefined }))
        : (base.failoverBranches.get(branch) ?? null);
    headSha =
      existing === null
        ? await freshBranch(repo, port, base, branch, change).catch(raced)
        : await leftoverBranch(repo, port, base, branch, existing, change);
    const opened = await port
      .openPullRequest({ head: branch, base: base.branch, title: change.title, body: change.body })
      .catch(raced);
    pr = { ...opened, headSha };
  }

  const message = mergeMessage(change.message, pr.number);
  const armed = await port
    .enableAutoMerge(pr, settings.mergeMethod, { message, expectedHead: headSha })
    .catch(raced);
  if (armed === "armed") return { outcome: "pr_armed", pr, reused };
  if (settings.fallback === "review") return { outcome: "pr_opened", pr, reused };
  // We merge only onto the base this plan was made from. A request that read it before a
  // concurrent one's merge landed the same change would otherwise open a second PR and merge
  // it: a commit nobody asked for (empty, the change is there already) and a second
  // `pr_merged`. Moved: re-read and plan again (no_op). A merge landing between this read and
  // ours is still possible; the refusal it may cause is handled below.
  if ((await port.branchHead(base.branch)) !== base.head) {
    throw new StaleHeadError(base.branch, base.head, undefined);
  }
  let merge: { sha: string };
  try {
    merge = await port.merge(pr, headSha, settings.mergeMethod, message);
  } catch (error) {
    // Another request merged it: the base has the change now; re-read, and it is a no_op.
    if (error instanceof MergedElsewhereError) {
      throw new StaleHeadError(base.branch, base.head, undefined);
    }
    // Refused while the base moved on: a concurrent request landed the change (and may have
    // closed this PR as superseded). A lost race, not a refusal: re-read and plan again, which
    // finds the change there (no_op) or merges on the new base. With the base where it was
    // read, the refusal is the PR's own (checks, conflicts) and is the answer.
    if (
      error instanceof FailoverError &&
      error.code === "conflict" &&
      (await port.branchHead(base.branch).catch(() => base.head)) !== base.head
    ) {
      throw new StaleHeadError(base.branch, base.head, undefined);
    }
    throw error;
  }
  await deleteMergedBranch(port, branch);
  return { outcome: "pr_merged", pr, reused, merge };
}

async function freshBranch(
  repo: GitOpsRepo,
  port: ChangeRequestPort,
  base: { branch: string; head: string },
  branch: string,
  change: ChangeSet,
): Promise<string> {
  await port.createBranch(branch, base.head);
  return (await commitTo(repo, branch, base.head, change)).sha;
}

/** A commit of ours: every failover commit names its request in a trailer. */
function isOurCommit(message: string): boolean {
  return /^Failover-Request: \S+$/m.test(message);
}

/**
 * `failover/<key>` exists without an open PR: what a request killed between two steps left
 * (after the merge, before the branch deletion; before opening the PR), the branch of a
 * closed PR, or a concurrent request's branch in the making. It is ours when every commit it
 * has beyond the base is a failover commit (`Failover-Request:` trailer); anyone else's
 * branch is refused (409), never deleted or moved.
 * - Not behind the base and nothing on it yet: build on it (a commit with the branch head as
 *   expected head: a concurrent request's branch in the making, or one killed right after
 *   creating it).
 * - Not behind the base and holding exactly this change (only these files, these texts):
 *   reuse it as it is (a concurrent request's, or one killed before it opened the PR).
 * - Otherwise (merged, a closed PR's, other content, planned from an older base): move it
 *   to the base head with a compare-and-swap on the head compared, and commit there.
 * When the read already says nothing on it is missing from the base (a merged PR's branch,
 * the common leftover), no comparison is needed: it is moved (or, at the base head, used).
 */
async function leftoverBranch(
  repo: GitOpsRepo,
  port: ChangeRequestPort,
  base: { branch: string; head: string },
  branch: string,
  existing: FailoverBranchState,
  change: ChangeSet,
): Promise<string> {
  const head = existing.head;
  const stale = () => new StaleHeadError(branch, head, undefined);
  const staleOnRace = (error: unknown): never => {
    if (
      error instanceof FailoverError &&
      (error.code === "conflict" || error.code === "not_found")
    ) {
      throw stale();
    }
    throw error;
  };
  if (existing.unmerged === 0) {
    // Everything on it is in the base already: moving it loses no one's commit.
    if (head !== base.head) await port.moveBranch(branch, head, base.head).catch(staleOnRace);
    return (await commitTo(repo, branch, base.head, change).catch(staleOnRace)).sha;
  }
  const comparison = await port.compareBranch(base.head, head);
  const foreign = comparison.ahead.filter((c) => !isOurCommit(c.message));
  if (foreign.length > 0) {
    throw new FailoverError(
      "conflict",
      `branch ${branch} has commits failover-api did not make (${foreign
        .map((c) => c.sha.slice(0, 12))
        .join(", ")}); it is left alone: merge, rename or delete it, then try again`,
      { details: { branch, commits: foreign.map((c) => c.sha) } },
    );
  }
  if (comparison.behindBy === 0 && comparison.ahead.length === 0) {
    return (
      await commitTo(repo, branch, head, change).catch((error: unknown) => {
        if (error instanceof FailoverError && error.code === "not_found") throw stale();
        throw error;
      })
    ).sha;
  }
  const ours = new Set(change.files.map((f) => f.path));
  if (comparison.behindBy === 0 && comparison.changedPaths.every((p) => ours.has(p))) {
    const snapshot = await repo.read(branch, [...ours]).catch((error: unknown) => {
      if (error instanceof FailoverError && error.code === "not_found") throw stale();
      throw error;
    });
    if (snapshot.head !== head) throw stale();
    if (change.files.every((f) => snapshot.files.get(f.path) === f.after)) return head;
  }
  // Ours, but stale: back to the base head, only if it is still at the head compared.
  await port.moveBranch(branch, head, base.head).catch(staleOnRace);
  return (await commitTo(repo, branch, base.head, change).catch(staleOnRace)).sha;
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

/**
 * The squash or merge commit's message: the change's own, trailers included (history,
 * idempotency, guards and operations read them), with GitHub's "(#n)" on the headline.
 */
function mergeMessage(message: string, pr: number): MergeCommitMessage {
  const newline = message.indexOf("\n");
  const headline = newline < 0 ? message : message.slice(0, newline);
  const body = newline < 0 ? "" : message.slice(newline + 1).replace(/^\n+/, "");
  return { title: `${headline} (#${pr})`, body };
}

/** Git's blob id of a text: what GitHub's compare gives as a file's `sha`. */
function blobSha(text: string): string {
  return createHash("sha1")
    .update(`blob ${Buffer.byteLength(text, "utf8")}\0`)
    .update(text, "utf8")
    .digest("hex");
}

/**
 * Whether the branch, compared with the base, is exactly this change: not behind, every
 * commit ours, and changing these files, to these texts, and nothing else.
 */
function isExactly(comparison: BranchComparison, change: ChangeSet): boolean {
  if (comparison.behindBy !== 0 || comparison.changedFiles === undefined) return false;
  if (comparison.aheadBy !== undefined && comparison.aheadBy !== comparison.ahead.length) {
    return false; // more commits than the compare listed: not all of them seen
  }
  const onBranch = new Map(comparison.changedFiles.map((f) => [f.path, f.blobSha]));
  return (
    onBranch.size === change.files.length &&
    change.files.every((f) => onBranch.get(f.path) === blobSha(f.after))
  );
}

/**
 * An open PR's branch carries this change only when its content against the base is exactly
 * the plan. Anything else on it (a wider plan's leftover: a service since locked or out of
 * scope; a file outside the plan; a plan from an older base) would reach the base with the
 * merge, past the guards that only saw this plan. So then the branch goes back to the base
 * head (a compare-and-swap on the head the PR showed) and gets this change alone. A branch
 * with someone else's commit is not ours to move: 409, nothing merged.
 * One compare call when it is exact, as a read of the branch was before.
 */
async function openBranch(
  repo: GitOpsRepo,
  port: ChangeRequestPort,
  base: { branch: string; head: string },
  pr: PullRequestInfo,
  change: ChangeSet,
  raced: (error: unknown) => never,
): Promise<string> {
  const head = pr.headSha;
  const comparison = await port.compareBranch(base.head, head);
  const foreign = comparison.ahead.filter((c) => !isOurCommit(c.message));
  if (foreign.length > 0) {
    throw new FailoverError(
      "conflict",
      `pull request #${pr.number} (${pr.headRef}) has commits failover-api did not make (${foreign
        .map((c) => c.sha.slice(0, 12))
        .join(", ")}); it is left alone: merge, close or clean it, then try again`,
      { details: { branch: pr.headRef, pr: pr.number, commits: foreign.map((c) => c.sha) } },
    );
  }
  if (isExactly(comparison, change)) return head;
  // Lost to another request (it moved the branch, or merged or closed the PR): re-read.
  if (head !== base.head) await port.moveBranch(pr.headRef, head, base.head).catch(raced);
  return (await commitTo(repo, pr.headRef, base.head, change).catch(raced)).sha;
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
 * `known`: the open failover PRs the failover's read saw (Snapshot.openFailoverPullRequests);
 * with it, nothing is asked when there is nothing to close.
 */
export async function closeSupersededPullRequest(
  settings: PullRequestSettings,
  key: string,
  base: string,
  why: string,
  known?: readonly PullRequestInfo[],
): Promise<PullRequestInfo | undefined> {
  const head = failoverBranch(key);
  const pr =
    known === undefined
      ? await settings.port.findOpenPullRequest(head, base)
      : (known.find((p) => p.headRef === head && p.baseRef === base) ?? null);
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
  known?: readonly PullRequestInfo[],
): Promise<PullRequestInfo[]> {
  const wanted = new Map(keys.map((key) => [failoverBranch(key), key]));
  const listed = known ?? (await settings.port.listOpenPullRequests(base));
  const open = listed.filter((pr) => pr.baseRef === base && wanted.has(pr.headRef));
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
