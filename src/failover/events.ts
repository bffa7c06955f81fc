import type { ErrorCode } from "../domain/errors.js";
import type { CommandOutcome, Trigger } from "../domain/outcome.js";
import type { Action, Side } from "../domain/service.js";
import type { WorkloadState } from "../domain/state.js";
import type { PullRequestInfo } from "../repo/change-requests.js";

/**
 * What the delivery pipeline tells its listeners (audit, Flux ping, metrics, superseded-PR
 * cleanup, the log line, notifications, Flux confirmation). The contract between the one
 * delivery path and every after-effect: a listener learns of a failover only through these.
 *
 * Every event of one command carries the same `operation`: the request id that the commit
 * also carries in its `Failover-Request` trailer, so an operation can be found again in Git
 * after a restart.
 */
export interface OperationFacts {
  /** The request id (also the commit's `Failover-Request` trailer). */
  readonly operation: string;
  readonly action: Action;
  readonly trigger: Trigger;
  readonly requester: string;
  /** Set for a node-wide failover: the node as the request named it. */
  readonly node?: string | undefined;
  /** The branch the change is for. */
  readonly branch: string;
  /** When the event happened (ISO 8601). */
  readonly at: string;
  /** Set on the event that ends the command: milliseconds from its start. */
  readonly durationMs?: number | undefined;
}

/** One service a commit (or PR) moves. */
export interface ServiceMoveFacts {
  readonly service: string;
  readonly from: WorkloadState;
  readonly to: Side;
  /** The files the change edits. */
  readonly files: readonly string[];
}

export type FailoverEvent =
  /** The command was read and planned; nothing written yet (dry runs stop here). */
  | (OperationFacts & {
      readonly type: "planned";
      readonly services: readonly ServiceMoveFacts[];
      readonly dryRun: boolean;
    })
  /** A commit with the change is on the branch (urgent mode, or a PR that merged). */
  | (OperationFacts & {
      readonly type: "committed";
      readonly services: readonly ServiceMoveFacts[];
      readonly commit: string;
      readonly commitUrl?: string | undefined;
      /** Set when the commit came from a merged PR. */
      readonly pullRequest?: { readonly number: number; readonly url: string } | undefined;
      /**
       * The open failover PRs the failover's read saw (GitHub: from the same GraphQL query),
       * so the superseded-PR cleanup asks nothing when there is nothing to close.
       */
      readonly openFailoverPullRequests?: readonly PullRequestInfo[] | undefined;
    })
  /** A PR with the change is open (possibly with auto-merge armed); not on the branch yet. */
  | (OperationFacts & {
      readonly type: "pr_opened";
      readonly services: readonly ServiceMoveFacts[];
      readonly pullRequest: { readonly number: number; readonly url: string };
      readonly autoMerge: boolean;
      /** The PR branch's head commit (what a Deployment of the PR points at). */
      readonly head?: string | undefined;
    })
  /** Nothing to change: every service is already where asked (the `no_op` outcome). */
  | (OperationFacts & {
      readonly type: "unchanged";
      readonly services: readonly ServiceMoveFacts[];
    })
  /** Refused before writing (locked, refused by a manifest rule, a guard, bad state). */
  | (OperationFacts & {
      readonly type: "refused";
      readonly services: readonly string[];
      readonly code: ErrorCode;
      readonly message: string;
      /** The refused or failed command was a dry run (nothing would have been written). */
      readonly dryRun?: boolean | undefined;
    })
  /** Failed after trying (conflict, upstream, timeout, internal). Maybe written: see message. */
  | (OperationFacts & {
      readonly type: "failed";
      readonly services: readonly string[];
      readonly code: ErrorCode;
      readonly message: string;
      /** The refused or failed command was a dry run (nothing would have been written). */
      readonly dryRun?: boolean | undefined;
    });

export type FailoverEventType = FailoverEvent["type"];

/** A listener may be slow or throw: the pipeline never waits for it, and never fails with it. */
export type FailoverListener = (event: FailoverEvent) => void | Promise<void>;

/**
 * What the command an event ends ended as (logs, metrics), or undefined for an event that
 * ends none (`planned` of a command that goes on to write).
 */
export function eventOutcome(event: FailoverEvent): CommandOutcome | undefined {
  switch (event.type) {
    case "planned":
      return event.dryRun ? "dry_run" : undefined;
    case "unchanged":
      return "no_op";
    case "committed":
      return event.pullRequest === undefined ? "applied" : "pr_merged";
    case "pr_opened":
      return event.autoMerge ? "pr_armed" : "pr_opened";
    case "refused":
    case "failed":
      return event.code;
  }
}
