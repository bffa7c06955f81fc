import { FailoverError } from "../domain/errors.js";
import type { AuditRecord } from "./audit.js";
import type { FailoverContext } from "./context.js";
import { withBudget } from "./deadline.js";
import { type FailoverRequest, type FailoverResult, runFailover } from "./failover.js";
import {
  type NodeFailoverRequest,
  type NodeFailoverResult,
  runNodeFailover,
} from "./node-failover.js";

export interface ExecutedFailover {
  readonly result: FailoverResult;
  readonly audit: AuditRecord | undefined;
}

/**
 * The use case every trigger calls: run the failover, then record what changed (or what was
 * refused) in the audit trail. Recording is best effort: a failover that landed is reported
 * as landed even when the audit write fails.
 */
export function executeFailover(
  ctx: FailoverContext,
  request: FailoverRequest,
): Promise<ExecutedFailover> {
  return withBudget(ctx.budgetMs, (bounded) =>
    executeBounded(ctx, request, (step) =>
      bounded(step, () =>
        budgetExceeded(
          ctx,
          `the failover of ${request.service}`,
          `/api/failover/${request.service}/status`,
        ),
      ),
    ),
  );
}

/**
 * The answer when the budget ran out: the write may have been sent, so say where to look.
 * (GitHub calls still in flight for it are aborted at the same moment.)
 */
function budgetExceeded(ctx: FailoverContext, what: string, statusPath: string): FailoverError {
  return new FailoverError(
    "timeout",
    `${what} did not finish within ${ctx.budgetMs} ms (FAILOVER_BUDGET_MS); the commit may ` +
      `have landed all the same: GET ${statusPath} will tell, and sending the request again is safe`,
    { details: { budgetMs: ctx.budgetMs, status: statusPath } },
  );
}

async function executeBounded(
  ctx: FailoverContext,
  request: FailoverRequest,
  bounded: <S>(step: Promise<S>) => Promise<S>,
): Promise<ExecutedFailover> {
  const started = performance.now();
  let result: FailoverResult;
  try {
    result = await bounded(runFailover(ctx, request));
  } catch (error) {
    observe(ctx, request, error instanceof FailoverError ? error.code : "internal", started);
    if (error instanceof FailoverError && !request.dryRun && isAuditedFailure(error)) {
      await record(ctx, { request, error, branch: await ctx.branch().catch(() => "unknown") });
    }
    throw error;
  }
  // Flux first: the reconcile ping is what makes the failover happen sooner; the audit's
  // GitHub writes are paced a second apart and must not hold it back.
  if (result.outcome === "applied" || result.outcome === "pr_merged") {
    await afterChange(ctx, {
      service: result.plan.service,
      action: request.action,
      outcome: result.outcome,
      commit: result.outcome === "applied" ? result.commit.sha : result.merge.sha,
    });
  }
  const changed = result.outcome !== "dry_run" && result.outcome !== "no_op";
  const audit = changed ? await record(ctx, { request, result }) : undefined;
  observe(ctx, request, result.outcome, started);
  return { result, audit };
}

function observe(
  ctx: FailoverContext,
  request: FailoverRequest,
  outcome: string,
  started: number,
): void {
  try {
    ctx.observe?.({
      service: request.service,
      action: request.action,
      trigger: request.trigger,
      outcome,
      seconds: (performance.now() - started) / 1000,
    });
  } catch {
    // metrics never decide a failover
  }
}

/**
 * The node-wide counterpart: run it, then record a Deployment for every service it moved,
 * count it, and ping Flux once for the one commit.
 */
export function executeNodeFailover(
  ctx: FailoverContext,
  request: NodeFailoverRequest,
): Promise<NodeFailoverResult> {
  return withBudget(ctx.budgetMs, (bounded) =>
    executeNodeBounded(ctx, request, (step) =>
      bounded(step, () =>
        budgetExceeded(
          ctx,
          `the failover of node ${request.node}`,
          `/api/nodes/${request.node}/status`,
        ),
      ),
    ),
  );
}

async function executeNodeBounded(
  ctx: FailoverContext,
  request: NodeFailoverRequest,
  bounded: <S>(step: Promise<S>) => Promise<S>,
): Promise<NodeFailoverResult> {
  const started = performance.now();
  const result = await bounded(runNodeFailover(ctx, request));
  if (result.outcome === "applied" || result.outcome === "pr_merged") {
    await afterChange(ctx, {
      service: `node ${result.node}`,
      action: request.action,
      outcome: result.outcome,
      commit: result.outcome === "applied" ? result.commit.sha : result.merge.sha,
    });
  }
  const moved = result.services.flatMap((s) => (s.result === "changed" ? [s.plan] : []));
  const base = { head: result.head, mode: result.mode };
  for (const plan of moved) {
    const perService = { ...request, service: plan.service };
    let single: FailoverResult | undefined;
    if (result.outcome === "applied") {
      single = { ...base, plan, outcome: "applied", commit: result.commit, attempts: 1 };
    } else if (result.outcome === "pr_merged") {
      single = {
        ...base,
        plan,
        outcome: result.outcome,
        pr: result.pr,
        reused: result.reused,
        merge: result.merge,
      };
    } else if (result.outcome === "pr_armed" || result.outcome === "pr_opened") {
      single = { ...base, plan, outcome: result.outcome, pr: result.pr, reused: result.reused };
    }
    if (single !== undefined) await record(ctx, { request: perService, result: single });
    observe(ctx, perService, result.outcome, started);
  }
  return result;
}

/** Best effort (a Flux reconcile ping): the branch already changed, whatever happens here. */
async function afterChange(
  ctx: FailoverContext,
  change: Parameters<NonNullable<FailoverContext["afterChange"]>>[0],
): Promise<void> {
  try {
    await ctx.afterChange?.(change);
  } catch {
    // the hook logs and counts its own failures
  }
}

/** Failures worth a failed deployment: the service exists and the attempt was real. */
function isAuditedFailure(error: FailoverError): boolean {
  return error.code === "refused" || error.code === "conflict" || error.code === "upstream";
}

async function record(
  ctx: FailoverContext,
  event: Parameters<NonNullable<FailoverContext["audit"]>["record"]>[0],
): Promise<AuditRecord | undefined> {
  if (ctx.audit === undefined) return undefined;
  try {
    return await ctx.audit.record(event);
  } catch (error) {
    ctx.onAuditError?.(error);
    return undefined;
  }
}
