import { randomUUID } from "node:crypto";
import type { FailoverContext } from "./context.js";
import type { FailoverRequest, FailoverResult } from "./failover.js";
import type { NodeFailoverRequest, NodeFailoverResult } from "./node-failover.js";
import { runCommand } from "./run-command.js";

export interface ExecutedFailover {
  readonly result: FailoverResult;
}

/**
 * A failover of one service as every trigger runs it: `runCommand` with a failover command
 * (within the budget, announced on `ctx.events`; the audit and the other after-effects are
 * listeners that run after the answer). Kept for callers that build requests themselves.
 */
export async function executeFailover(
  ctx: FailoverContext,
  request: FailoverRequest,
): Promise<ExecutedFailover> {
  const { result } = await runCommand(ctx, {
    kind: "failover",
    service: request.service,
    action: request.action,
    dryRun: request.dryRun,
    mode: request.mode,
    trigger: request.trigger,
    requester: request.requester,
    requestId: request.requestId ?? randomUUID(),
  });
  return { result };
}

/** The node-wide counterpart: every service whose primary is `request.node`, in one commit. */
export async function executeNodeFailover(
  ctx: FailoverContext,
  request: NodeFailoverRequest,
): Promise<NodeFailoverResult> {
  const { result } = await runCommand(ctx, {
    kind: "node_failover",
    node: request.node,
    action: request.action,
    dryRun: request.dryRun,
    mode: request.mode,
    trigger: request.trigger,
    requester: request.requester,
    requestId: request.requestId ?? randomUUID(),
  });
  return result;
}
