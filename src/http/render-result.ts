import type { FailoverResult } from "../failover/failover.js";

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
    path: plan.path,
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
