import { randomUUID } from "node:crypto";
import { FailoverError } from "../domain/errors.js";
import type { FailoverMode, Outcome, Trigger } from "../domain/outcome.js";
import type { FailoverPlan } from "../domain/plan.js";
import type { Action } from "../domain/service.js";
import type { PullRequestInfo } from "../repo/change-requests.js";
import type { CommitResult } from "../repo/port.js";
import type { FailoverContext } from "./context.js";
import { type Delivery, deliver } from "./deliver.js";
import { findService } from "./find-service.js";
import { type PullRequestOutcome, pullRequestOutcomeOf } from "./pull-request-flow.js";
import type { RpoWindow } from "./rpo-gate.js";

export interface FailoverRequest {
  readonly service: string;
  readonly action: Action;
  readonly dryRun: boolean;
  /** Overrides the service's and the process's default mode for this request. */
  readonly mode?: FailoverMode | undefined;
  readonly trigger: Trigger;
  /** Who asked (user login, client address, token name); recorded in the commit. */
  readonly requester: string;
  /** The operation's id (commit trailer, events); a new UUID when absent. */
  readonly requestId?: string | undefined;
  /** Accept a backup copy older than `max_rpo` (the RPO gate of a manual promote). */
  readonly acceptDataLoss?: boolean | undefined;
}

interface Planned {
  readonly plan: FailoverPlan;
  readonly head: string;
  readonly mode: FailoverMode;
  /** An open failover PR for the service that this request made obsolete, now closed. */
  readonly superseded?: PullRequestInfo | undefined;
  /** A promote's data-loss window (the RPO gate); absent for demotes. */
  readonly rpo?: RpoWindow | undefined;
}

/** One service's failover: the N = 1 case of a delivery, seen through its one plan. */
export type FailoverResult =
  | (Planned & { readonly outcome: Extract<Outcome, "dry_run"> })
  | (Planned & { readonly outcome: Extract<Outcome, "no_op"> })
  | (Planned & {
      readonly outcome: Extract<Outcome, "applied">;
      readonly commit: CommitResult;
      readonly attempts: number;
    })
  | (Planned & PullRequestOutcome);

/** Compile-time check: the PR flow's outcomes are in the closed vocabulary too. */
export type PullRequestOutcomeKind = InVocabulary<PullRequestOutcome["outcome"]>;
type InVocabulary<T extends Outcome> = T;

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
 * The mode of a node-wide failover of `services` when none is asked for: `pr` as soon as one
 * of them is configured for PR review (or falls back to a `pr` default), else urgent. One
 * commit moves them all, so the strictest wins: a node-wide promote must not land a `mode:
 * pr` service on the branch unreviewed because another service sorts first.
 */
export function resolveNodeMode(
  ctx: FailoverContext,
  services: readonly string[],
  requested: FailoverMode | undefined,
): FailoverMode {
  if (requested !== undefined) return resolveMode(ctx, services[0] ?? "", requested);
  const modes = services.map((name) => ctx.config().modes.get(name) ?? ctx.defaultMode);
  const mode = modes.length === 0 ? ctx.defaultMode : modes.includes("pr") ? "pr" : "urgent";
  return resolveMode(ctx, services[0] ?? "", mode);
}

/**
 * Plan and (unless a dry run) deliver one failover (deliver.ts: one commit with
 * compare-and-swap, or the PR flow). A locked service is refused, as is one whose manifest
 * cannot be moved safely.
 */
export async function runFailover(
  ctx: FailoverContext,
  request: FailoverRequest,
): Promise<FailoverResult> {
  const started = performance.now();
  const spec = findService(ctx, request.service);
  const mode = resolveMode(ctx, spec.name, request.mode);
  const delivery = await deliver(ctx, {
    scope: { kind: "service", spec },
    action: request.action,
    dryRun: request.dryRun,
    mode,
    trigger: request.trigger,
    requester: request.requester,
    requestId: request.requestId ?? randomUUID(),
    started,
    acceptDataLoss: request.acceptDataLoss,
  });
  return singleResult(delivery);
}

function singleResult(delivery: Delivery): FailoverResult {
  const [only] = delivery.services;
  if (only === undefined || !("plan" in only)) throw new FailoverError("internal", "no plan");
  const planned: Planned = {
    plan: only.plan,
    head: delivery.head,
    mode: delivery.mode,
    superseded: delivery.superseded[0],
    ...(only.rpo === undefined ? {} : { rpo: only.rpo }),
  };
  switch (delivery.outcome) {
    case "dry_run":
    case "no_op":
      return { ...planned, outcome: delivery.outcome };
    case "applied":
      return {
        ...planned,
        outcome: "applied",
        commit: delivery.commit,
        attempts: delivery.attempts,
      };
    case "pr_merged":
    case "pr_armed":
    case "pr_opened":
      return { ...planned, ...pullRequestOutcomeOf(delivery) };
  }
}
