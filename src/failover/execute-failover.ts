import { FailoverError } from "../domain/errors.js";
import type { AuditRecord } from "./audit.js";
import type { FailoverContext } from "./context.js";
import { type FailoverRequest, type FailoverResult, runFailover } from "./failover.js";

export interface ExecutedFailover {
  readonly result: FailoverResult;
  readonly audit: AuditRecord | undefined;
}

/**
 * The use case every trigger calls: run the failover, then record what changed (or what was
 * refused) in the audit trail. Recording is best effort: a failover that landed is reported
 * as landed even when the audit write fails.
 */
export async function executeFailover(
  ctx: FailoverContext,
  request: FailoverRequest,
): Promise<ExecutedFailover> {
  let result: FailoverResult;
  try {
    result = await runFailover(ctx, request);
  } catch (error) {
    if (error instanceof FailoverError && !request.dryRun && isAuditedFailure(error)) {
      await record(ctx, { request, error, branch: await ctx.branch().catch(() => "unknown") });
    }
    throw error;
  }
  const changed = result.outcome !== "dry_run" && result.outcome !== "no_op";
  const audit = changed ? await record(ctx, { request, result }) : undefined;
  return { result, audit };
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
