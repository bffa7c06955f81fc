import { FailoverError, StaleHeadError } from "../domain/errors.js";
import type { Trigger } from "../domain/outcome.js";
import { type FailoverPlan, planCommitMessage, planFailover } from "../domain/plan.js";
import type { Action } from "../domain/service.js";
import type { PullRequestInfo } from "../repo/change-requests.js";
import type { CommitResult } from "../repo/port.js";
import type { FailoverContext, FailoverMode } from "./context.js";
import { findService } from "./find-service.js";
import {
  closeSupersededPullRequest,
  deliverByPullRequest,
  type PullRequestOutcome,
} from "./pull-request-flow.js";
import { readManifest } from "./read-manifest.js";

export interface FailoverRequest {
  readonly service: string;
  readonly action: Action;
  readonly dryRun: boolean;
  /** Overrides the service's and the process's default mode for this request. */
  readonly mode?: FailoverMode | undefined;
  readonly trigger: Trigger;
  /** Who asked (user login, client address, token name); recorded in the commit. */
  readonly requester: string;
}

interface Planned {
  readonly plan: FailoverPlan;
  readonly head: string;
  readonly mode: FailoverMode;
  /** An open failover PR for the service that this request made obsolete, now closed. */
  readonly superseded?: PullRequestInfo | undefined;
}

export type FailoverResult =
  | (Planned & { readonly outcome: "dry_run" })
  | (Planned & { readonly outcome: "no_op" })
  | (Planned & {
      readonly outcome: "applied";
      readonly commit: CommitResult;
      readonly attempts: number;
    })
  | (Planned & PullRequestOutcome);

/**
 * Plan and (unless a dry run) deliver one failover. Urgent mode commits on the branch with a
 * compare-and-swap on the head the plan was computed from; when the branch moved, it
 * re-reads and re-plans, so a concurrent identical request ends as no_op instead of a second
 * commit. PR mode hands the plan to the pull-request flow.
 */
export async function runFailover(
  ctx: FailoverContext,
  request: FailoverRequest,
): Promise<FailoverResult> {
  const spec = findService(ctx, request.service);
  const mode = request.mode ?? ctx.config().modes.get(spec.name) ?? ctx.defaultMode;
  if (mode === "pr" && ctx.pullRequests === undefined) {
    throw new FailoverError(
      "invalid_input",
      `PR mode needs a GitHub repository (${ctx.repo.description} has no pull requests); use mode urgent`,
    );
  }
  for (let attempt = 1; attempt <= ctx.maxAttempts; attempt++) {
    const manifest = await readManifest(ctx, spec);
    const plan = planFailover(spec, request.action, manifest.path, manifest.text);
    const planned = { plan, head: manifest.head, mode };
    if (request.dryRun) return { ...planned, outcome: "dry_run" };
    if (!plan.changed) {
      const superseded = await supersede(ctx, plan, manifest.branch);
      return { ...planned, superseded, outcome: "no_op" };
    }
    if (mode === "pr" && ctx.pullRequests !== undefined) {
      const delivered = await deliverByPullRequest(
        ctx.repo,
        ctx.pullRequests,
        { branch: manifest.branch, head: manifest.head },
        plan,
        request,
      );
      return { ...planned, ...delivered };
    }
    try {
      const commit = await ctx.repo.commit({
        branch: manifest.branch,
        expectedHead: manifest.head,
        message: planCommitMessage(plan, request),
        changes: [{ path: plan.path, text: plan.after }],
      });
      const superseded = await supersede(ctx, plan, manifest.branch);
      return { ...planned, superseded, outcome: "applied", commit, attempts: attempt };
    } catch (error) {
      if (!(error instanceof StaleHeadError)) throw error;
    }
  }
  throw new FailoverError(
    "conflict",
    `the branch kept moving: gave up after ${ctx.maxAttempts} attempts; try again`,
    { details: { service: request.service, attempts: ctx.maxAttempts } },
  );
}

/** After the base reached the target by this request, no open failover PR may undo it. */
async function supersede(
  ctx: FailoverContext,
  plan: FailoverPlan,
  branch: string,
): Promise<PullRequestInfo | undefined> {
  if (ctx.pullRequests === undefined) return undefined;
  return closeSupersededPullRequest(
    ctx.pullRequests,
    plan.service,
    branch,
    `${branch} now has ${plan.service} on ${plan.to} (${plan.action})`,
  );
}
