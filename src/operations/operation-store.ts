import type { FailoverCommit } from "../domain/automation/automatic-history.js";
import type { Action } from "../domain/service.js";
import type { FailoverEvent, FailoverListener } from "../failover/events.js";
import type { GitOpsRepo } from "../repo/port.js";
import { readBranchHistory } from "./failover-commits.js";
import { FINAL, type Operation, type Phase, type PhaseRecord } from "./operation.js";

export interface OperationStoreOptions {
  readonly repo: GitOpsRepo;
  readonly branch: () => Promise<string>;
  /** A committed operation with no Flux word for this long is `unconfirmed` (FLUX_CONFIRM_TIMEOUT_MS). */
  readonly confirmTimeoutMs: number;
  readonly now?: () => number;
  /**
   * An unknown id reads Git (100 commits of history) at most once per this long, whatever the
   * number of ids asked for: a stream of random ids cannot spend the GitHub API budget.
   */
  readonly lookupIntervalMs?: number;
  /** Told of every phase an operation reaches (notifications, metrics). Must not throw. */
  readonly onPhase?: (operation: Operation, phase: Phase) => void;
}

const MAX_OPERATIONS = 2000;
const LOOKUP_INTERVAL_MS = 10_000;

/**
 * Operations by id, in memory, fed by the pipeline's events and rebuilt from the failover
 * commits' trailers (Failover-Request) on start and when an id (at most once per
 * `lookupIntervalMs`) or a revision is not known, so an operation another replica (or the
 * previous process) committed is found too.
 */
export class OperationStore {
  readonly #options: OperationStoreOptions;
  readonly #now: () => number;
  readonly #operations = new Map<string, Operation>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** What a committed operation still waits for, as its timeout will say it (see waitingFor). */
  readonly #waiting = new Map<string, string>();
  #closed = false;
  /** The Git read an unknown id started, shared by every id asked for meanwhile. */
  #lookup: Promise<unknown> | undefined;
  #lastLookup = Number.NEGATIVE_INFINITY;

  constructor(options: OperationStoreOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The listener the pipeline calls with every event. */
  readonly listener: FailoverListener = (event) => this.#apply(event);

  get(id: string): Operation | undefined {
    return this.#operations.get(id);
  }

  /**
   * Known, or found in Git (committed by another replica or before a restart). An unknown id
   * joins the Git read already under way, or starts one if none started in the last
   * `lookupIntervalMs`; otherwise it is a miss from memory until then. This process's own
   * operations need no read: the pipeline's events record them.
   */
  async find(id: string): Promise<Operation | undefined> {
    const known = this.#operations.get(id);
    if (known !== undefined) return known;
    if (this.#lookup === undefined) {
      const interval = this.#options.lookupIntervalMs ?? LOOKUP_INTERVAL_MS;
      if (this.#now() - this.#lastLookup < interval) return undefined;
      // Counted from the start, and a failed read counts too: GitHub down is no reason to ask
      // it more often.
      this.#lastLookup = this.#now();
      const lookup = this.refresh().finally(() => {
        if (this.#lookup === lookup) this.#lookup = undefined;
      });
      this.#lookup = lookup;
    }
    await this.#lookup;
    return this.#operations.get(id);
  }

  /** Committed, neither confirmed nor failed yet. */
  pending(): Operation[] {
    return [...this.#operations.values()].filter(
      (o) => o.commit !== undefined && !FINAL.has(o.status),
    );
  }

  /** Reads the branch's recent failover commits and learns the operations not known yet. */
  async refresh(depth?: number): Promise<readonly string[]> {
    const branch = await this.#options.branch();
    const history = await readBranchHistory(this.#options.repo, branch, depth);
    for (const commit of history.commits) this.#absorb(commit);
    return history.order;
  }

  /**
   * What a pending operation still waits for, in words (`flux-system/sonarr applied …; no
   * success from flux-system/radarr yet`): what its `unconfirmed` says if the timeout comes
   * first, instead of "no Flux reconcile reported", which would be untrue once some came.
   */
  waitingFor(id: string, what: string): void {
    const op = this.#operations.get(id);
    if (op === undefined || FINAL.has(op.status)) return;
    this.#waiting.set(id, what);
  }

  /** Records a phase (confirmed, failed, unconfirmed) reached outside the pipeline's events. */
  settle(
    id: string,
    phase: Phase,
    detail: string,
    flux?: Operation["flux"],
  ): Operation | undefined {
    const op = this.#operations.get(id);
    if (op === undefined || FINAL.has(op.status)) return undefined;
    const at = this.#now();
    const started = Date.parse(op.phases[0]?.at ?? "");
    const next: Operation = {
      ...op,
      status: phase,
      phases: [...op.phases, { phase, at: new Date(at).toISOString(), detail }],
      flux: flux ?? op.flux,
      rtoSeconds:
        phase === "confirmed" && !Number.isNaN(started) ? (at - started) / 1000 : op.rtoSeconds,
    };
    this.#set(next, phase);
    return next;
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  #apply(event: FailoverEvent): void {
    // A dry run writes nothing and is nobody's operation: kept here, a stream of previews
    // (anonymous GETs) would push real pending operations out of memory before Flux spoke.
    if (
      (event.type === "planned" || event.type === "refused" || event.type === "failed") &&
      event.dryRun === true
    )
      return;
    const op = this.#operations.get(event.operation) ?? {
      id: event.operation,
      action: event.action,
      trigger: event.trigger,
      requester: event.requester,
      node: event.node,
      services: [],
      status: "requested" as Phase,
      phases: [],
      commit: undefined,
      pullRequest: undefined,
      flux: undefined,
      rtoSeconds: undefined,
    };
    // A commit landed for this operation: a later attempt under the same id (a redelivery
    // or a second replica that lost the race) that is refused, fails or finds nothing to do
    // says nothing about it, and must not turn a committed operation into `refused`.
    if (
      op.commit !== undefined &&
      (event.type === "refused" || event.type === "failed" || event.type === "unchanged")
    )
      return;
    const record = (phase: Phase, detail?: string): PhaseRecord => ({
      phase,
      at: event.at,
      ...(detail === undefined ? {} : { detail }),
    });
    const services =
      event.type === "refused" || event.type === "failed"
        ? event.services
        : event.services.map((s) => s.service);
    const base = { ...op, services: services.length > 0 ? services : op.services };
    switch (event.type) {
      case "planned":
        if (op.phases.length === 0)
          this.#set({ ...base, phases: [record("requested")] }, "requested");
        return;
      case "pr_opened":
        this.#set(
          {
            ...base,
            status: "pr_opened",
            pullRequest: event.pullRequest,
            phases: [...op.phases, record("pr_opened", event.pullRequest.url)],
          },
          "pr_opened",
        );
        return;
      case "committed": {
        const phases = [...op.phases, record("committed", event.commit)];
        if (event.pullRequest !== undefined) phases.push(record("merged", event.pullRequest.url));
        this.#set(
          {
            ...base,
            status: "committed",
            commit: { sha: event.commit, url: event.commitUrl },
            pullRequest: event.pullRequest ?? op.pullRequest,
            phases,
          },
          "committed",
        );
        this.#startTimer(event.operation, this.#options.confirmTimeoutMs);
        return;
      }
      case "unchanged": {
        // Nothing to write, so nothing for Flux to confirm: the operation ends here (a
        // `?wait=false` caller polling it would otherwise read `requested` for good).
        const already = event.services.map((s) => `${s.service} already on ${s.to}`);
        this.#set(
          {
            ...base,
            status: "no_op",
            phases: [
              ...op.phases,
              record(
                "no_op",
                already.length === 0
                  ? "nothing to change"
                  : `nothing to change: ${already.join(", ")}`,
              ),
            ],
          },
          "no_op",
        );
        return;
      }
      case "refused":
      case "failed":
        this.#set(
          {
            ...base,
            status: event.type,
            phases: [...op.phases, record(event.type, `${event.code}: ${event.message}`)],
          },
          event.type,
        );
    }
  }

  #absorb(commit: FailoverCommit): void {
    const id = commit.operation;
    if (id === undefined) return;
    const known = this.#operations.get(id);
    if (known?.commit !== undefined) return;
    const committedAt = new Date(commit.at).toISOString();
    const op: Operation = {
      id,
      action: (commit.moves[0]?.action as Action | undefined) ?? known?.action,
      trigger: commit.trigger,
      requester: commit.requester,
      node: commit.node,
      services: commit.moves.map((m) => m.service),
      status: "committed",
      phases: [
        ...(known?.phases ?? []),
        { phase: "committed", at: committedAt, detail: commit.sha },
      ],
      commit: { sha: commit.sha, url: commit.url },
      pullRequest: known?.pullRequest,
      flux: undefined,
      rtoSeconds: undefined,
    };
    this.#set(op, "committed");
    // What is left of the timeout since the commit, and never more than all of it: a commit
    // dated ahead of this clock (another host's clock) waits the timeout from now. Unbounded,
    // a date months ahead made a delay past setTimeout's 2^31-1 ms, which node runs after 1 ms.
    const timeout = this.#options.confirmTimeoutMs;
    const left = commit.at + timeout - this.#now();
    this.#startTimer(id, Math.min(timeout, Math.max(0, left)));
  }

  #startTimer(id: string, ms: number): void {
    if (this.#closed || this.#timers.has(id)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(id);
      const waited = this.#waiting.get(id) ?? "no Flux reconcile of this commit reported";
      this.settle(
        id,
        "unconfirmed",
        `${waited} within ${Math.round(this.#options.confirmTimeoutMs / 1000)} s (FLUX_CONFIRM_TIMEOUT_MS)`,
      );
    }, ms);
    timer.unref();
    this.#timers.set(id, timer);
  }

  /**
   * Forgets the least recently changed operation that has ended, so a burst of refusals
   * cannot push out one still waiting for Flux; only when every one is pending, the oldest.
   */
  #forgetOne(): void {
    let victim: string | undefined;
    for (const [id, op] of this.#operations) {
      victim ??= id;
      if (FINAL.has(op.status)) {
        victim = id;
        break;
      }
    }
    if (victim === undefined) return;
    this.#operations.delete(victim);
    this.#waiting.delete(victim);
    const timer = this.#timers.get(victim);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(victim);
  }

  #set(op: Operation, phase: Phase): void {
    if (FINAL.has(phase)) {
      const t = this.#timers.get(op.id);
      if (t !== undefined) clearTimeout(t);
      this.#timers.delete(op.id);
    }
    if (FINAL.has(phase)) this.#waiting.delete(op.id);
    this.#operations.delete(op.id);
    this.#operations.set(op.id, op);
    if (this.#operations.size > MAX_OPERATIONS) this.#forgetOne();
    try {
      this.#options.onPhase?.(op, phase);
    } catch {
      // notifications and metrics never decide an operation
    }
  }
}
