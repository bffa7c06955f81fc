import type { FailoverEvent } from "./events.js";

/** The events an audit trail records: a change landed or proposed, or a real attempt failed. */
export type AuditedEvent = Extract<
  FailoverEvent,
  { readonly type: "committed" | "pr_opened" | "refused" | "failed" }
>;

export interface AuditRecord {
  readonly url: string | undefined;
  readonly id: number | string;
}

/**
 * Where failovers are recorded besides Git: GitHub Deployments in GitHub mode; nothing for
 * local repositories (Git history is the trail). One record per operation (per commit or
 * PR), whatever the number of services it moves.
 */
export interface AuditTrail {
  record(event: AuditedEvent): Promise<AuditRecord | undefined>;
}
