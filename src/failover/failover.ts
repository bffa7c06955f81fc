import { randomUUID } from "node:crypto";
import { FailoverError, StaleHeadError } from "../domain/errors.js";
import { describeLock, lockRefusal } from "../domain/lock.js";
import type { Trigger } from "../domain/outcome.js";
import { type FailoverPlan, planCommitMessage, planFailover } from "../domain/plan.js";
import { pullRequestBody, pullRequestTitle } from "../domain/pull-request-text.js";
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
import { readServices } from "./read-service.js";

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

export function resolveMode(
  ctx: FailoverContext,
  service: string,
  requested: FailoverMode | undefined,
): FailoverMode {
  const mode = requested ?? ctx.config().modes.get(service) ?? ctx.defaultMode;
  if (mode === "pr" && ctx.pullRequests === undefined) {
    throw new FailoverError(
      "invalid_input",
      `PR mode needs a GitHub repository (${ctx.repo.description} has no pull requests); use mode urgent`,
    );
  }
  return mode;
}

/**
 * Plan and (unless a dry run) deliver one failover. Urgent mode commits on the branch with a
 * compare-and-swap on the head the plan was computed from; when the branch moved, it
 * re-reads and re-plans, so a concurrent identical request ends as no_op instead of a second
 * commit. PR mode hands the plan to the pull-request flow. A locked service is refused.
 */
export async function runFailover(
  ctx: FailoverContext,
  request: FailoverRequest,
): Promise<FailoverResult> {
  const spec = findService(ctx, request.service);
  const mode = resolveMode(ctx, spec.name, request.mode);
  const facts = { ...request, requestId: randomUUID() };
  for (let attempt = 1; attempt <= ctx.maxAttempts; attempt++) {
    const at = await readServices(ctx, [spec]);
    const files = at.services[0];
    if (files === undefined) throw new FailoverError("internal", "no files read");
    if (files.error !== undefined) throw files.error;
    const plan = planFailover(files, request.action);
    const planned = { plan, head: at.head, mode };
    if (request.dryRun) {
      if (files.lock === undefined) return { ...planned, outcome: "dry_run" };
      const warned = {
        ...plan,
        warnings: [...plan.warnings, `${describeLock(files.lock)}; unlock it first`],
      };
      return { ...planned, plan: warned, outcome: "dry_run" };
    }
    if (files.lock !== undefined) {
      throw new FailoverError("locked", lockRefusal(files.lock), {
        details: { service: spec.name, lock: files.lock },
      });
    }
    if (!plan.changed) {
      const superseded = await supersede(ctx, spec.name, at.branch, plan);
      return { ...planned, superseded, outcome: "no_op" };
    }
    if (mode === "pr" && ctx.pullRequests !== undefined) {
      let delivered: PullRequestOutcome;
      try {
        delivered = await deliverByPullRequest(
          ctx.repo,
          ctx.pullRequests,
          { branch: at.branch, head: at.head },
          {
            key: spec.name,
            title: pullRequestTitle(plan),
            body: pullRequestBody([plan], request),
            message: planCommitMessage(plan, facts),
            files: plan.files,
          },
        );
      } catch (error) {
        // Lost a race on the PR branch or the merge: re-read (the base may have it now).
        if (!(error instanceof StaleHeadError)) throw error;
        continue;
      }
      if (delivered.outcome === "pr_merged") ctx.statusCache?.moved(at.branch, delivered.merge.sha);
      return { ...planned, ...delivered };
    }
    let commit: CommitResult;
    try {
      commit = await ctx.repo.commit({
        branch: at.branch,
        expectedHead: at.head,
        message: planCommitMessage(plan, facts),
        changes: plan.files.map((f) => ({ path: f.path, text: f.after })),
      });
    } catch (error) {
      if (!(error instanceof StaleHeadError)) throw error;
      continue;
    }
    // The failover is in Git now: nothing after this may report it as failed.
    ctx.statusCache?.moved(at.branch, commit.sha);
    const superseded = await supersede(ctx, spec.name, at.branch, plan).catch((error: unknown) => {
      ctx.onAuditError?.(error);
      return undefined;
    });
    return { ...planned, superseded, outcome: "applied", commit, attempts: attempt };
  }
  throw new FailoverError(
    "conflict",
    `the branch kept moving: gave up after ${ctx.maxAttempts} attempts; try again`,
    { details: { service: request.service, attempts: ctx.maxAttempts } },
  );
}

/** After the base reached the target by this request, no open failover PR may undo it. */
export async function supersede(
  ctx: FailoverContext,
  key: string,
  branch: string,
  plan: { service: string; to: string; action: string },
): Promise<PullRequestInfo | undefined> {
  if (ctx.pullRequests === undefined) return undefined;
  return closeSupersededPullRequest(
    ctx.pullRequests,
    key,
    branch,
    `${branch} now has ${plan.service} on ${plan.to} (${plan.action})`,
  );
}
