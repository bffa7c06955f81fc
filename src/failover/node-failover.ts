import { randomUUID } from "node:crypto";
import type { FailoverMode, Outcome, Trigger } from "../domain/outcome.js";
import type { Action, Side } from "../domain/service.js";
import type { PullRequestInfo } from "../repo/change-requests.js";
import type { CommitResult } from "../repo/port.js";
import type { FailoverContext } from "./context.js";
import { deliver, type ServiceResult } from "./deliver.js";
import { resolveNodeMode } from "./failover.js";
import { servicesOnNode } from "./find-service.js";
import { type PullRequestOutcome, pullRequestOutcomeOf } from "./pull-request-flow.js";

export type { ServiceResult } from "./deliver.js";

export interface NodeFailoverRequest {
  /** A primary node value as configured (`primary_node_label`), e.g. `k3s-w1` or `primary` (run-command resolves services.yaml's `nodes:` names first). */
  readonly node: string;
  readonly action: Action;
  readonly dryRun: boolean;
  readonly mode?: FailoverMode | undefined;
  readonly trigger: Trigger;
  readonly requester: string;
  /** The operation's id (commit trailer, events); a new UUID when absent. */
  readonly requestId?: string | undefined;
  /** Accept backup copies older than `max_rpo` (the RPO gate of a manual promote). */
  readonly acceptDataLoss?: boolean | undefined;
}

interface NodePlanned {
  readonly node: string;
  readonly action: Action;
  readonly to: Side;
  readonly mode: FailoverMode;
  readonly head: string;
  readonly services: readonly ServiceResult[];
  readonly diff: string;
  readonly superseded: readonly PullRequestInfo[];
}

export type NodeFailoverResult =
  | (NodePlanned & { readonly outcome: Extract<Outcome, "dry_run" | "no_op"> })
  | (NodePlanned & { readonly outcome: Extract<Outcome, "applied">; readonly commit: CommitResult })
  | (NodePlanned & PullRequestOutcome);

/**
 * Every service whose primary is `node`, moved in ONE atomic commit (or one PR): the same
 * delivery as a single failover (deliver.ts), with per-service refusals reported as rows.
 */
export async function runNodeFailover(
  ctx: FailoverContext,
  request: NodeFailoverRequest,
): Promise<NodeFailoverResult> {
  const started = performance.now();
  const specs = servicesOnNode(ctx, request.node);
  const mode = resolveNodeMode(
    ctx,
    specs.map((s) => s.name),
    request.mode,
  );
  const delivery = await deliver(ctx, {
    scope: { kind: "node", node: request.node, specs },
    action: request.action,
    dryRun: request.dryRun,
    mode,
    trigger: request.trigger,
    requester: request.requester,
    requestId: request.requestId ?? randomUUID(),
    started,
    acceptDataLoss: request.acceptDataLoss,
  });
  const planned: NodePlanned = {
    node: request.node,
    action: request.action,
    to: delivery.to,
    mode: delivery.mode,
    head: delivery.head,
    services: delivery.services,
    diff: delivery.diff,
    superseded: delivery.superseded,
  };
  switch (delivery.outcome) {
    case "dry_run":
    case "no_op":
      return { ...planned, outcome: delivery.outcome };
    case "applied":
      return { ...planned, outcome: "applied", commit: delivery.commit };
    case "pr_merged":
    case "pr_armed":
    case "pr_opened":
      return { ...planned, ...pullRequestOutcomeOf(delivery) };
  }
}
