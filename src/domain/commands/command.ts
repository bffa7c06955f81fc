import type { FailoverMode, Trigger } from "../outcome.js";
import type { Action } from "../service.js";

/**
 * Who asked, through what, and the request's id. The id names the operation everywhere:
 * the commit's `Failover-Request` trailer, every event of it, the log line.
 */
export interface CommandOrigin {
  readonly trigger: Trigger;
  /** User login, token name or client address; recorded in the commit. */
  readonly requester: string;
  /** The idempotency key / request id (X-Request-Id, the webhook delivery, a new UUID). */
  readonly requestId: string;
}

/**
 * Every command any transport can give, whatever its syntax: the HTTP API, a `/failover`
 * comment, a workflow or repository dispatch, the CLI. Each transport has one small pure
 * parser producing it; `failover/run-command.ts` runs it.
 */
export type Command = CommandOrigin &
  (
    | {
        readonly kind: "failover";
        readonly service: string;
        readonly action: Action;
        readonly dryRun: boolean;
        /** undefined: the service's configured mode, else the process default. */
        readonly mode: FailoverMode | undefined;
        /** A person accepts a backup older than `max_rpo` (the RPO gate); automation never does. */
        readonly acceptDataLoss?: boolean | undefined;
      }
    | {
        readonly kind: "node_failover";
        /** A primary node value as configured (`primary_node_label`), or a node name of services.yaml's `nodes:` map (run-command resolves it). */
        readonly node: string;
        readonly action: Action;
        readonly dryRun: boolean;
        readonly mode: FailoverMode | undefined;
        readonly acceptDataLoss?: boolean | undefined;
      }
    /** `service` undefined: every configured service, from one read. */
    | { readonly kind: "status"; readonly service: string | undefined }
    | { readonly kind: "list" }
    | { readonly kind: "lock"; readonly service: string; readonly reason: string }
    | { readonly kind: "unlock"; readonly service: string }
    | { readonly kind: "history"; readonly service: string; readonly limit: number }
    /** `problem`: why what was given is no command (the answer shows the usage under it). */
    | { readonly kind: "help"; readonly problem: string | undefined }
  );

export type CommandKind = Command["kind"];

/** The command of one kind. */
export type CommandOf<K extends CommandKind> = Extract<Command, { readonly kind: K }>;

/** History entries when the transport does not say. */
export const DEFAULT_HISTORY_LIMIT = 20;
