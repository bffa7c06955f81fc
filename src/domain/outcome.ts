import type { ErrorCode } from "./errors.js";

/**
 * The closed vocabulary of what a failover request ended as. HTTP bodies, ChatOps replies,
 * logs and metrics all speak it: each is typed by these lists, never by a re-typed literal.
 */
export const OUTCOMES = [
  "applied",
  "no_op",
  "dry_run",
  "pr_opened",
  "pr_merged",
  "pr_armed",
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** What a lock or unlock ended as. */
export const LOCK_OUTCOMES = ["locked", "unlocked", "no_op"] as const;
export type LockOutcome = (typeof LOCK_OUTCOMES)[number];

/** What happened to one service of a node-wide failover. */
export const SERVICE_RESULTS = ["changed", "no_op", "refused", "locked"] as const;
export type ServiceResultKind = (typeof SERVICE_RESULTS)[number];

/** A command's end in logs and metrics: its outcome, or the error code it failed with. */
export type CommandOutcome = Outcome | ErrorCode;

/** Who or what asked for a change, recorded in commit trailers. */
export const TRIGGERS = [
  "http",
  "chatops",
  "workflow_dispatch",
  "repository_dispatch",
  "cli",
  "alertmanager",
] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** How a change lands: a commit on the branch, or a pull request. */
export const MODES = ["urgent", "pr"] as const;
export type FailoverMode = (typeof MODES)[number];
