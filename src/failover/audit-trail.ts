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

/** How an operation ended, as Flux told (or did not tell) it: the record's last word. */
export interface AuditSettlement {
  /** confirmed: Flux applied it; failed: Flux reported an error; unconfirmed: no word in time. */
  readonly result: "confirmed" | "failed" | "unconfirmed";
  readonly description: string;
  readonly url?: string | undefined;
}

/** A record already in the trail: which operation, for which commit, made when. */
export interface RecordedOperation {
  readonly operation: string;
  readonly id: number | string;
  readonly sha: string | undefined;
}

/**
 * Where failovers are recorded besides Git: GitHub Deployments in GitHub mode; nothing for
 * local repositories (Git history is the trail). One record per operation (per commit or
 * PR), whatever the number of services it moves.
 */
export interface AuditTrail {
  record(event: AuditedEvent): Promise<AuditRecord | undefined>;
  /**
   * The operations of the trail's recent records (newest first, at most `limit`; `of`: only
   * those of one commit): what the reconciler on start compares the branch's failover
   * commits with.
   */
  recorded?(limit: number, of?: { readonly sha: string }): Promise<readonly RecordedOperation[]>;
  /**
   * Remembers a record another process made, so `settle` can end it without a lookup (the
   * reconciler does this for commits still waiting for Flux).
   */
  adopt?(record: RecordedOperation): void;
  /**
   * Ends the record of an operation this process recorded or adopted: true when it wrote.
   * Records it does not know are left alone (no lookups, no writes for old history).
   */
  settle?(operation: string, settlement: AuditSettlement): Promise<boolean>;
}
