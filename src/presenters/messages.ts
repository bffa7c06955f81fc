import type { FailoverResult } from "../failover/failover.js";
import type { LockResult } from "../failover/locks.js";
import type { NodeFailoverResult } from "../failover/node-failover.js";

/**
 * The one sentence each outcome is told in, shared by every presenter (HTTP `message`,
 * the ChatOps reply, the CLI line), so a transport never re-words another's.
 */
export function failoverMessage(result: FailoverResult): string {
  const said = outcomeSentence(result);
  if (result.superseded === undefined) return said;
  return `${said}; closed pull request #${result.superseded.number}, which would have moved it again`;
}

function outcomeSentence(result: FailoverResult): string {
  const { plan } = result;
  switch (result.outcome) {
    case "dry_run":
      return plan.changed
        ? `dry run: ${plan.action} would move ${plan.service} from ${plan.from} to ${plan.to}; nothing was written`
        : `dry run: ${plan.service} is already on ${plan.to}; ${plan.action} would change nothing`;
    case "no_op":
      return `${plan.service} is already on ${plan.to}; nothing to do`;
    case "applied":
      return `${plan.service} moved from ${plan.from} to ${plan.to} in commit ${result.commit.sha.slice(0, 12)}`;
    case "pr_opened":
    case "pr_armed":
    case "pr_merged":
      return `${plan.service}: ${plan.action} to ${plan.to} in pull request #${result.pr.number}, which ${PR_STATE[result.outcome]}`;
  }
}

const PR_STATE = {
  pr_opened: "is waiting for a review",
  pr_armed: "will merge automatically when its checks pass",
  pr_merged: "was merged",
} as const satisfies Record<Extract<FailoverResult["outcome"], `pr_${string}`>, string>;

export function nodeMessage(result: NodeFailoverResult): string {
  const moved = result.services.filter((s) => s.result === "changed").length;
  switch (result.outcome) {
    case "dry_run":
      return `dry run: ${result.action} on node ${result.node} would move ${moved} service(s) to ${result.to}; nothing was written`;
    case "no_op":
      return `every service of node ${result.node} that can move is already on ${result.to}`;
    case "applied":
      return `node ${result.node}: ${moved} service(s) moved to ${result.to} in commit ${result.commit.sha.slice(0, 12)}`;
    case "pr_opened":
    case "pr_armed":
    case "pr_merged":
      return `node ${result.node}: ${moved} service(s) to ${result.to} in pull request #${result.pr.number} (${result.outcome})`;
  }
}

export function lockMessage(service: string, result: LockResult): string {
  switch (result.outcome) {
    case "no_op":
      return result.lock === undefined
        ? `${service} is not locked`
        : `${service} is already locked by you`;
    case "locked":
      return `${service} locked by ${result.lock.by}${result.lock.reason === "" ? "" : `: ${result.lock.reason}`}; failovers of it are refused until it is unlocked`;
    case "unlocked":
      return `${service} unlocked`;
  }
}
