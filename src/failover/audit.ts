import type { FailoverError } from "../domain/errors.js";
import type { FailoverRequest, FailoverResult } from "./failover.js";

/** Something that changed, or failed to, for the repository's own audit view. */
export type AuditEvent =
  | { readonly request: FailoverRequest; readonly result: FailoverResult }
  | { readonly request: FailoverRequest; readonly error: FailoverError; readonly branch: string };

export interface AuditRecord {
  readonly url: string | undefined;
  readonly id: number | string;
}

/** GitHub Deployments in GitHub mode; nothing for local repositories (Git history is the trail). */
export interface AuditTrail {
  record(event: AuditEvent): Promise<AuditRecord | undefined>;
}
