import type { FailoverResult } from "../failover/failover.js";
import type { LockResult } from "../failover/locks.js";
import type { NodeFailoverResult } from "../failover/node-failover.js";

/** The JSON body of a failover request's answer; every outcome has the same core fields. */
export function renderFailoverResult(result: FailoverResult): Record<string, unknown> {
  const body = renderOutcome(result);
  if (result.superseded === undefined) return body;
  return {
    ...body,
    message: `${String(body.message)}; closed pull request #${result.superseded.number}, which would have moved it again`,
  };
}

function renderOutcome(result: FailoverResult): Record<string, unknown> {
  const { plan } = result;
  const base = {
    outcome: result.outcome,
    mode: result.mode,
    service: plan.service,
    action: plan.action,
    from: plan.from,
    to: plan.to,
    paths: plan.paths,
    head: result.head,
    changes: plan.edits,
    warnings: plan.warnings,
    ...(result.superseded === undefined
      ? {}
      : {
          superseded_pull_request: { number: result.superseded.number, url: result.superseded.url },
        }),
  };
  switch (result.outcome) {
    case "dry_run":
      return {
        ...base,
        dry_run: true,
        message: plan.changed
          ? `dry run: ${plan.action} would move ${plan.service} from ${plan.from} to ${plan.to}; nothing was written`
          : `dry run: ${plan.service} is already on ${plan.to}; ${plan.action} would change nothing`,
        diff: plan.diff,
      };
    case "no_op":
      return {
        ...base,
        dry_run: false,
        message: `${plan.service} is already on ${plan.to}; nothing to do`,
      };
    case "applied":
      return {
        ...base,
        dry_run: false,
        message: `${plan.service} moved from ${plan.from} to ${plan.to} in commit ${result.commit.sha.slice(0, 12)}`,
        commit: result.commit,
        diff: plan.diff,
      };
    case "pr_opened":
    case "pr_armed":
    case "pr_merged": {
      const pr = { number: result.pr.number, url: result.pr.url, reused: result.reused };
      const said = {
        pr_opened: "is waiting for a review",
        pr_armed: "will merge automatically when its checks pass",
        pr_merged: "was merged",
      }[result.outcome];
      return {
        ...base,
        dry_run: false,
        message: `${plan.service}: ${plan.action} to ${plan.to} in pull request #${pr.number}, which ${said}`,
        pull_request: pr,
        ...(result.outcome === "pr_merged" ? { merge: result.merge } : {}),
        diff: plan.diff,
      };
    }
  }
}

/** The JSON body of a node-wide failover: the combined outcome and one entry per service. */
export function renderNodeResult(result: NodeFailoverResult): Record<string, unknown> {
  const services = result.services.map((s) =>
    "plan" in s
      ? {
          service: s.service,
          result: s.result,
          from: s.plan.from,
          to: s.plan.to,
          changes: s.plan.edits,
          warnings: s.plan.warnings,
        }
      : { service: s.service, result: s.result, code: s.code, message: s.message },
  );
  const moved = result.services.filter((s) => s.result === "changed").length;
  const base = {
    outcome: result.outcome,
    mode: result.mode,
    node: result.node,
    action: result.action,
    to: result.to,
    head: result.head,
    services,
    diff: result.diff,
    ...(result.superseded.length === 0
      ? {}
      : {
          superseded_pull_requests: result.superseded.map((p) => ({
            number: p.number,
            url: p.url,
          })),
        }),
  };
  switch (result.outcome) {
    case "dry_run":
      return {
        ...base,
        dry_run: true,
        message: `dry run: ${result.action} on node ${result.node} would move ${moved} service(s) to ${result.to}; nothing was written`,
      };
    case "no_op":
      return {
        ...base,
        dry_run: false,
        message: `every service of node ${result.node} that can move is already on ${result.to}`,
      };
    case "applied":
      return {
        ...base,
        dry_run: false,
        commit: result.commit,
        message: `node ${result.node}: ${moved} service(s) moved to ${result.to} in commit ${result.commit.sha.slice(0, 12)}`,
      };
    default:
      return {
        ...base,
        dry_run: false,
        pull_request: { number: result.pr.number, url: result.pr.url, reused: result.reused },
        ...(result.outcome === "pr_merged" ? { merge: result.merge } : {}),
        message: `node ${result.node}: ${moved} service(s) to ${result.to} in pull request #${result.pr.number} (${result.outcome})`,
      };
  }
}

export function renderLockResult(service: string, result: LockResult): Record<string, unknown> {
  if (result.outcome === "no_op") {
    return {
      outcome: "no_op",
      service,
      lock: result.lock ?? null,
      message:
        result.lock === undefined
          ? `${service} is not locked`
          : `${service} is already locked by you`,
    };
  }
  return {
    outcome: result.outcome,
    service,
    lock: result.outcome === "locked" ? result.lock : null,
    commit: result.commit,
    message:
      result.outcome === "locked"
        ? `${service} locked by ${result.lock.by}${result.lock.reason === "" ? "" : `: ${result.lock.reason}`}; failovers of it are refused until it is unlocked`
        : `${service} unlocked`,
  };
}
