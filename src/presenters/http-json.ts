import type { ErrorCode } from "../domain/errors.js";
import type { Lock } from "../domain/lock.js";
import type { FailoverMode, LockOutcome, Outcome, ServiceResultKind } from "../domain/outcome.js";
import type { Action, Side } from "../domain/service.js";
import type { WorkloadState } from "../domain/state.js";
import type { FieldEdit } from "../domain/targets/engine.js";
import type { FailoverResult } from "../failover/failover.js";
import type { LockResult } from "../failover/locks.js";
import type { NodeFailoverResult } from "../failover/node-failover.js";
import type { RpoWindow } from "../failover/rpo-gate.js";
import type { CommandResult } from "../failover/run-command.js";
import type { CommitResult } from "../repo/port.js";
import { failoverMessage, lockMessage, nodeMessage } from "./messages.js";

interface PullRequestView {
  readonly number: number;
  readonly url: string;
  readonly reused: boolean;
}

interface PullRequestLink {
  readonly number: number;
  readonly url: string;
}

/**
 * A promote's data-loss window (the RPO gate): `seconds` since the backup copy last synced,
 * null when unknown (no cluster access, the Syncthing mover); `message` says which.
 */
export interface RpoView {
  readonly seconds: number | null;
  readonly message: string;
}

function rpoView(rpo: RpoWindow | undefined): { readonly rpo?: RpoView } {
  return rpo === undefined ? {} : { rpo: { seconds: rpo.seconds ?? null, message: rpo.message } };
}

/** The JSON body of a failover of one service (`POST /api/failover/{service}/{action}`). */
export interface FailoverView {
  readonly outcome: Outcome;
  readonly mode: FailoverMode;
  readonly service: string;
  readonly action: Action;
  readonly from: WorkloadState;
  readonly to: Side;
  readonly paths: readonly string[];
  readonly head: string;
  readonly changes: readonly FieldEdit[];
  readonly warnings: readonly string[];
  readonly rpo?: RpoView;
  readonly superseded_pull_request?: PullRequestLink;
  readonly dry_run: boolean;
  readonly message: string;
  readonly diff?: string;
  readonly commit?: CommitResult;
  readonly pull_request?: PullRequestView;
  readonly merge?: { readonly sha: string };
}

export function failoverView(result: FailoverResult): FailoverView {
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
    ...rpoView(result.rpo),
    ...(result.superseded === undefined
      ? {}
      : {
          superseded_pull_request: { number: result.superseded.number, url: result.superseded.url },
        }),
    dry_run: result.outcome === "dry_run",
    message: failoverMessage(result),
  };
  switch (result.outcome) {
    case "dry_run":
      return { ...base, diff: plan.diff };
    case "no_op":
      return base;
    case "applied":
      return { ...base, commit: result.commit, diff: plan.diff };
    case "pr_opened":
    case "pr_armed":
    case "pr_merged":
      return {
        ...base,
        pull_request: { number: result.pr.number, url: result.pr.url, reused: result.reused },
        ...(result.outcome === "pr_merged" ? { merge: result.merge } : {}),
        diff: plan.diff,
      };
  }
}

/** One service's row in a node-wide answer. */
export type NodeServiceView =
  | {
      readonly service: string;
      readonly result: Extract<ServiceResultKind, "changed" | "no_op">;
      readonly from: WorkloadState;
      readonly to: Side;
      readonly changes: readonly FieldEdit[];
      readonly warnings: readonly string[];
      readonly rpo?: RpoView;
    }
  | {
      readonly service: string;
      readonly result: Extract<ServiceResultKind, "refused" | "locked">;
      readonly code: ErrorCode;
      readonly message: string;
    };

/** The JSON body of a node-wide failover: the combined outcome and one entry per service. */
export interface NodeFailoverView {
  readonly outcome: Outcome;
  readonly mode: FailoverMode;
  readonly node: string;
  readonly action: Action;
  readonly to: Side;
  readonly head: string;
  readonly services: readonly NodeServiceView[];
  readonly diff: string;
  readonly superseded_pull_requests?: readonly PullRequestLink[];
  readonly dry_run: boolean;
  readonly message: string;
  readonly commit?: CommitResult;
  readonly pull_request?: PullRequestView;
  readonly merge?: { readonly sha: string };
}

export function nodeFailoverView(result: NodeFailoverResult): NodeFailoverView {
  const services = result.services.map(
    (s): NodeServiceView =>
      "plan" in s
        ? {
            service: s.service,
            result: s.result,
            from: s.plan.from,
            to: s.plan.to,
            changes: s.plan.edits,
            warnings: s.plan.warnings,
            ...rpoView(s.rpo),
          }
        : { service: s.service, result: s.result, code: s.code, message: s.message },
  );
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
    dry_run: result.outcome === "dry_run",
    message: nodeMessage(result),
  };
  switch (result.outcome) {
    case "dry_run":
    case "no_op":
      return base;
    case "applied":
      return { ...base, commit: result.commit };
    case "pr_opened":
    case "pr_armed":
    case "pr_merged":
      return {
        ...base,
        pull_request: { number: result.pr.number, url: result.pr.url, reused: result.reused },
        ...(result.outcome === "pr_merged" ? { merge: result.merge } : {}),
      };
  }
}

/** The JSON body of a lock or unlock. */
export interface LockView {
  readonly outcome: LockOutcome;
  readonly service: string;
  readonly lock: Lock | null;
  readonly commit?: CommitResult;
  readonly message: string;
}

export function lockView(service: string, result: LockResult): LockView {
  const message = lockMessage(service, result);
  if (result.outcome === "no_op") {
    return { outcome: "no_op", service, lock: result.lock ?? null, message };
  }
  return {
    outcome: result.outcome,
    service,
    lock: result.outcome === "locked" ? result.lock : null,
    commit: result.commit,
    message,
  };
}

/** The JSON body of any command's result, as the HTTP API answers it. */
export function httpBody(result: CommandResult): unknown {
  switch (result.kind) {
    case "failover":
      return failoverView(result.result);
    case "node_failover":
      return nodeFailoverView(result.result);
    case "status":
    case "all_status":
      return result.status;
    case "list":
      return { services: result.services };
    case "lock":
      return lockView(result.service, result.result);
    case "history":
      return { service: result.service, history: result.items };
    case "help":
      return { problem: result.problem ?? null };
  }
}
