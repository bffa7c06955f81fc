import { type FailoverCommit, readFailoverCommit } from "../domain/automation/automatic-history.js";
import type { GitOpsRepo } from "../repo/port.js";

/** How far back automation and operations look: enough for every guard's window. */
export const HISTORY_DEPTH = 100;

export interface BranchHistory {
  /** Failover commits among the last HISTORY_DEPTH, newest first. */
  readonly commits: readonly FailoverCommit[];
  /** Every commit sha read, newest first (what "descends from" is judged by). */
  readonly order: readonly string[];
}

/**
 * The branch's recent failover commits with their trailers: guard state (cooldowns, the
 * node failed over automatically) and operations are derived from these, never from
 * memory, so they survive restarts and are the same on every replica.
 */
export async function readBranchHistory(
  repo: GitOpsRepo,
  branch: string,
  limit = HISTORY_DEPTH,
): Promise<BranchHistory> {
  const entries = await repo.history(branch, { limit });
  return {
    commits: entries.flatMap((e) => readFailoverCommit(e) ?? []),
    order: entries.map((e) => e.sha),
  };
}
