import { parseFailoverCommit, TRAILER_KEYS } from "../domain/commit-message.js";
import { TRIGGERS, type Trigger } from "../domain/outcome.js";
import { ACTIONS } from "../domain/service.js";
import { WORKLOAD_STATES } from "../domain/state.js";
import type { GitOpsRepo, HistoryEntry } from "../repo/port.js";
import type { AuditedEvent, AuditTrail } from "./audit-trail.js";

/** How many recent commits the reconciler looks at on start. */
export const RECONCILE_DEPTH = 20;

export interface ReconcileOptions {
  readonly repo: GitOpsRepo;
  readonly branch: () => Promise<string>;
  readonly trail: AuditTrail;
  /** Commits at most this old are still waiting for Flux: their record is adopted (settle). */
  readonly pendingWindowMs: number;
  readonly depth?: number;
  readonly now?: () => number;
}

export interface ReconcileResult {
  /** Failover commits among the recent ones. */
  readonly commits: number;
  /** Operations that had no record and got one now. */
  readonly created: readonly string[];
}

/**
 * The audit is written after the answer (a background listener), so a process killed
 * between the commit and the Deployment write would lose the record. On start this
 * rebuilds it from Git: every recent failover commit (trailers `Failover-Request`,
 * `Failover-Service`, ...) whose operation has no Deployment gets one, `in_progress` like
 * at commit time. Idempotent: it checks by the payload's operation before creating, so a
 * second start creates nothing. Two replicas starting at the same instant can both see no
 * record and both create one (GitHub has no conditional create): the one remaining race,
 * costing a duplicate Deployment, never a lost one.
 */
export async function reconcileAudit(options: ReconcileOptions): Promise<ReconcileResult> {
  const { trail } = options;
  if (trail.recorded === undefined) return { commits: 0, created: [] };
  const depth = options.depth ?? RECONCILE_DEPTH;
  const now = options.now ?? Date.now;
  const branch = await options.branch();
  const entries = await options.repo.history(branch, { limit: depth });
  const commits = entries.flatMap((e) => committedEvent(e, branch) ?? []);
  if (commits.length === 0) return { commits: 0, created: [] };
  // GitHub lists Deployments newest first; failover commits are at most `depth`, and every
  // one of them made at most one Deployment, plus the PR-mode ones: twice the depth is enough.
  // By operation and commit: a PR's `queued` Deployment carries the same operation as the
  // one of its merge commit, and must not stand in for it.
  const known = new Map(
    (await trail.recorded(depth * 2)).map((r) => [`${r.operation} ${r.sha ?? ""}`, r]),
  );
  const created: string[] = [];
  // Oldest first, as they happened: the Deployments view keeps the order.
  for (const event of commits.reverse()) {
    // Not among the recent ones (other Deployments of the repository may have pushed it off
    // the first page): asked once more by the commit's sha before creating one.
    const record =
      known.get(`${event.operation} ${event.commit}`) ??
      (await trail.recorded(100, { sha: event.commit })).find(
        (r) => r.operation === event.operation,
      );
    const pending = Date.parse(event.at) > now() - options.pendingWindowMs;
    if (record !== undefined) {
      if (pending) trail.adopt?.(record);
      continue;
    }
    await trail.record(event);
    created.push(event.operation);
    // Past the confirmation window Flux's word is not known any more: say so at once rather
    // than leave the rebuilt record `in_progress` for ever.
    if (!pending) {
      await trail.settle?.(event.operation, {
        result: "unconfirmed",
        description: `rebuilt from Git after a restart; whether Flux applied ${event.commit.slice(0, 7)} is not known`,
      });
    }
  }
  return { commits: commits.length, created };
}

/** A failover commit read back as the `committed` event the pipeline emitted for it. */
function committedEvent(
  entry: HistoryEntry,
  branch: string,
): Extract<AuditedEvent, { type: "committed" }> | undefined {
  const parsed = parseFailoverCommit(entry.message);
  const operation = trailer(entry.message, TRAILER_KEYS.request);
  if (parsed === null || operation === undefined) return undefined;
  const first = parsed.moves[0];
  const action = ACTIONS.find((a) => a === first?.action);
  if (action === undefined) return undefined;
  return {
    type: "committed",
    operation,
    action,
    // A commit another tool wrote with an unknown trigger is recorded as an HTTP request.
    trigger: TRIGGERS.find((t) => t === parsed.trigger) ?? ("http" as Trigger),
    requester: parsed.requester ?? "unknown",
    node: parsed.node,
    branch,
    at: new Date(Date.parse(entry.date) || 0).toISOString(),
    commit: entry.sha,
    commitUrl: entry.url,
    services: parsed.moves.map((m) => ({
      service: m.service,
      from: WORKLOAD_STATES.find((w) => w === m.from) ?? "unknown",
      to: m.to === "primary" ? "primary" : "backup",
      files: [],
    })),
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
