/**
 * The closed vocabulary of what a failover request ended as. HTTP bodies, ChatOps replies,
 * logs and metrics all speak it.
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
