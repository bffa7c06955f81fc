import { parseFailoverCommit, TRAILER_KEYS } from "../commit-message.js";
import type { WorkloadState } from "../state.js";

/** A failover commit read back from Git, with the trailers automation and operations need. */
export interface FailoverCommit {
  readonly sha: string;
  readonly url: string | undefined;
  /** ms since the epoch (the commit date). */
  readonly at: number;
  /** The `Failover-Request` trailer: the operation id. */
  readonly operation: string | undefined;
  readonly trigger: string | undefined;
  readonly requester: string | undefined;
  readonly node: string | undefined;
  readonly moves: readonly { service: string; action: string; to: string | undefined }[];
}

/** Reads one commit's trailers; undefined for commits that are not failovers. */
export function readFailoverCommit(entry: {
  sha: string;
  message: string;
  date: string;
  url: string | undefined;
}): FailoverCommit | undefined {
  const parsed = parseFailoverCommit(entry.message);
  if (parsed === null) return undefined;
  const at = Date.parse(entry.date);
  return {
    sha: entry.sha,
    url: entry.url,
    at: Number.isNaN(at) ? 0 : at,
    operation: trailer(entry.message, TRAILER_KEYS.request),
    trigger: parsed.trigger,
    requester: parsed.requester,
    node: parsed.node,
    moves: parsed.moves.map((m) => ({ service: m.service, action: m.action, to: m.to })),
  };
}

function trailer(message: string, key: string): string | undefined {
  const prefix = `${key}:`;
  const line = message
    .split(/\r?\n/)
    .reverse()
    .find((l) => l.startsWith(prefix));
  const value = line?.slice(prefix.length).trim();
  return value === "" ? undefined : value;
}

/**
 * The requester an automatic failover records (`Failover-Requester`): the alert's
 * idempotency key is in it, so a retried alert finds its commit in Git after a restart.
 */
export function alertRequester(alertName: string, key: string): string {
  return `alertmanager ${alertName.replace(/[^A-Za-z0-9_.:-]/g, "_").slice(0, 100)} key=${key}`;
}

export function alertKeyOf(requester: string | undefined): string | undefined {
  return requester === undefined ? undefined : /\bkey=([0-9a-f]{8,64})$/.exec(requester)?.[1];
}

/** Newest first: when each service was last moved by an automatic (alertmanager) commit. */
export function lastAutomaticMoves(commits: readonly FailoverCommit[]): Map<string, number> {
  const last = new Map<string, number>();
  for (const c of commits) {
    if (c.trigger !== "alertmanager") continue;
    for (const m of c.moves) if (!last.has(m.service)) last.set(m.service, c.at);
  }
  return last;
}

/**
 * The node an automatic failover moved away from whose services are not all back on it:
 * the newest automatic promote (of a node other than `except`) one of whose services sits
 * on backup or half moved (`mixed`). At most one node is failed over automatically at a time.
 * A service no longer in services.yaml (`stateOf` undefined) is not counted: nothing can
 * bring it back through failover-api, so it must not hold every other node for good. A
 * service whose state is `unknown` is not counted here either: it is its own hold-back
 * (automaticFailoverUnknown), so the message can say which service and why.
 */
export function nodeFailedOverAutomatically(
  commits: readonly FailoverCommit[],
  stateOf: (service: string) => WorkloadState | undefined,
  except?: string,
): string | undefined {
  for (const c of automaticPromotes(commits, except)) {
    if (
      c.moves.some((m) => {
        const state = stateOf(m.service);
        return state === "backup" || state === "mixed";
      })
    ) {
      return c.node;
    }
  }
  return undefined;
}

/** A service an automatic failover of another node moved, whose state Git cannot tell now. */
export interface UnknownAfterFailover {
  readonly node: string;
  readonly service: string;
  /** Why its state is unknown (file and field), from the status read. */
  readonly reason: string | undefined;
}

/**
 * The newest automatic promote (of a node other than `except`) that moved a service whose
 * state is `unknown` now: whether that node is back cannot be told, so one_node_at_a_time
 * cannot be checked.
 */
export function automaticFailoverUnknown(
  commits: readonly FailoverCommit[],
  statusOf: (
    service: string,
  ) => { readonly state: WorkloadState; readonly reason?: string | undefined } | undefined,
  except?: string,
): UnknownAfterFailover | undefined {
  for (const c of automaticPromotes(commits, except)) {
    for (const m of c.moves) {
      const status = statusOf(m.service);
      if (status?.state === "unknown") {
        return { node: c.node ?? "", service: m.service, reason: status.reason };
      }
    }
  }
  return undefined;
}

function automaticPromotes(
  commits: readonly FailoverCommit[],
  except: string | undefined,
): FailoverCommit[] {
  return commits.filter(
    (c) =>
      c.trigger === "alertmanager" &&
      c.node !== undefined &&
      c.node !== except &&
      c.moves.some((m) => m.action === "promote"),
  );
}

/** The newest failover commit that moved `service` (any trigger), from the history read. */
export function lastMoveOf(
  commits: readonly FailoverCommit[],
  service: string,
): FailoverCommit | undefined {
  return commits.find((c) => c.moves.some((m) => m.service === service));
}
