import { revisionIncludes } from "../domain/automation/flux-revision.js";
import { FailoverError } from "../domain/errors.js";
import type { Operation, Phase } from "../operations/operation.js";
import type { OperationStore } from "../operations/operation-store.js";
import type { KustomizationReport } from "./flux-event.js";

/** Flux reconciles within minutes of a commit: the last few commits hold the revision. */
const CONFIRM_DEPTH = 30;
/** Kustomizations remembered per pending operation: reports are signed, a bound all the same. */
const MAX_REPORTED = 100;
/** Lookups remembered (by operation id), oldest forgotten first. */
const MAX_LOOKUPS = 1000;

export interface ConfirmationOptions {
  readonly store: OperationStore;
  /**
   * The Kustomizations (`namespace/name`) that apply an operation's services. Empty or
   * undefined: the repository holds none that does, and then any Kustomization reconciling
   * the commit confirms. Rejects when it cannot be told (a failed repository read): then no
   * report settles the operation by guess, and the lookup is tried again at the next report.
   */
  readonly kustomizationsFor?: (op: Operation) => Promise<ReadonlySet<string> | undefined>;
}

/** What an operation needs from Flux: every named Kustomization, any one, or not known yet. */
type Needed =
  | { readonly kind: "all"; readonly names: readonly string[] }
  | { readonly kind: "any" }
  | { readonly kind: "unknown"; readonly why: string };

/** One Kustomization's word on revisions that include the operation's commit. */
interface Reported {
  readonly namespace: string | undefined;
  readonly name: string;
  succeeded?: Said;
  failed?: Said;
}

interface Said {
  readonly revision: string;
  readonly message: string;
  /** Arrival order across all reports: the last success is the one that settled it. */
  readonly seq: number;
}

type Verdict =
  | {
      readonly phase: Extract<Phase, "confirmed" | "failed">;
      readonly detail: string;
      readonly flux: NonNullable<Operation["flux"]>;
    }
  | { readonly phase: undefined; readonly waiting: string };

/**
 * Turns Flux's reports into operation phases. An operation is `confirmed` once every
 * Kustomization that applies its services (a node-wide operation may need several) has
 * reported success for the failover commit or a later one, and `failed` as soon as one of
 * them reports an error for such a revision. When the repository holds no Kustomization
 * applying them, any one reconciling the commit decides. When which ones cannot be told (the
 * lookup failed), nothing is decided: the reports are kept and judged once it can be told,
 * and if it never can, the store's timeout makes it `unconfirmed`.
 */
export class FluxConfirmation {
  readonly #options: ConfirmationOptions;
  readonly #lookups = new Map<string, Promise<Needed>>();
  /** By operation id, then by `namespace/name` as reported (namespace empty for a commit status). */
  readonly #reported = new Map<string, Map<string, Reported>>();
  #seq = 0;
  #order: readonly string[] = [];

  constructor(options: ConfirmationOptions) {
    this.#options = options;
  }

  /** The operations the report settled (their ids). */
  async report(report: KustomizationReport): Promise<string[]> {
    const { store } = this.#options;
    // Learns operations committed elsewhere (another replica, before a restart) and the
    // branch order that tells whether the revision includes each commit. A revision seen in
    // the last read is judged with it: every commit up to it was read then, so no operation
    // it includes can be missing. Otherwise the branch is read again.
    if (!this.#order.includes(report.revision)) this.#order = await store.refresh(CONFIRM_DEPTH);
    const order = this.#order;
    const pending = store.pending();
    this.#forgetSettled(pending);
    const settled: string[] = [];
    for (const op of pending) {
      if (op.commit === undefined) continue;
      if (revisionIncludes(order, report.revision, op.commit.sha) !== true) continue;
      // Kept before the lookup is awaited, so a report arriving meanwhile is judged with it.
      const reported = this.#remember(op.id, report);
      const verdict = judge(await this.#needed(op), reported, op);
      if (verdict.phase === undefined) {
        store.waitingFor(op.id, verdict.waiting);
        continue;
      }
      const done = store.settle(op.id, verdict.phase, verdict.detail, verdict.flux);
      if (done !== undefined) {
        settled.push(op.id);
        this.#reported.delete(op.id);
      }
    }
    return settled;
  }

  /** Starts finding an operation's Kustomizations as soon as it is committed. */
  prefetch(op: Operation): Promise<unknown> {
    return this.#needed(op);
  }

  #remember(id: string, report: KustomizationReport): readonly Reported[] {
    let byKey = this.#reported.get(id);
    if (byKey === undefined) {
      byKey = new Map();
      this.#reported.set(id, byKey);
    }
    const key = `${report.namespace ?? ""}/${report.name}`;
    let entry = byKey.get(key);
    if (entry === undefined && byKey.size < MAX_REPORTED) {
      entry = { namespace: report.namespace, name: report.name };
      byKey.set(key, entry);
    }
    if (entry !== undefined) {
      const said = { revision: report.revision, message: report.message, seq: ++this.#seq };
      if (report.outcome === "succeeded") entry.succeeded = said;
      else entry.failed ??= said;
    }
    return [...byKey.values()];
  }

  /** A successful lookup is kept for the operation; a failed one is not: it is asked again. */
  #needed(op: Operation): Promise<Needed> {
    const lookup = this.#options.kustomizationsFor;
    if (lookup === undefined) return Promise.resolve({ kind: "any" });
    const known = this.#lookups.get(op.id);
    if (known !== undefined) return known;
    const started: Promise<Needed> = Promise.resolve()
      .then(() => lookup(op))
      .then(
        (names): Needed =>
          names === undefined || names.size === 0
            ? { kind: "any" }
            : { kind: "all", names: [...names].sort() },
        (error: unknown): Needed => {
          if (this.#lookups.get(op.id) === started) this.#lookups.delete(op.id);
          return { kind: "unknown", why: unknownBecause(error) };
        },
      );
    this.#lookups.set(op.id, started);
    if (this.#lookups.size > MAX_LOOKUPS) {
      const oldest = this.#lookups.keys().next().value;
      if (oldest !== undefined) this.#lookups.delete(oldest);
    }
    return started;
  }

  /** Drops what is kept for operations that are no longer pending (settled, forgotten). */
  #forgetSettled(pending: readonly Operation[]): void {
    const ids = new Set(pending.map((o) => o.id));
    for (const id of this.#reported.keys()) if (!ids.has(id)) this.#reported.delete(id);
    for (const id of this.#lookups.keys()) if (!ids.has(id)) this.#lookups.delete(id);
  }
}

/** The operation's phase from what it needs and what has been reported (pure). */
function judge(needed: Needed, reported: readonly Reported[], op: Operation): Verdict {
  switch (needed.kind) {
    case "unknown": {
      const heard = reported.map(said).join("; ");
      return {
        phase: undefined,
        waiting: `could not tell which Kustomizations apply ${op.services.join(", ")} (${needed.why}${heard === "" ? "" : `; reported: ${heard}`})`,
      };
    }
    case "any": {
      const failure = firstFailure(reported.map((r) => ({ name: displayName(r), entry: r })));
      if (failure !== undefined) return failed(failure.name, failure.said);
      const success = lastSuccess(reported);
      if (success?.succeeded === undefined) {
        return { phase: undefined, waiting: "no Kustomization reported success" };
      }
      return confirmed([[displayName(success), success.succeeded]]);
    }
    case "all": {
      const matched = needed.names.map((name) => ({
        name,
        entries: reported.filter((r) => reportedAs(r, name)),
      }));
      const failure = firstFailure(
        matched.flatMap(({ name, entries }) => entries.map((entry) => ({ name, entry }))),
      );
      if (failure !== undefined) return failed(failure.name, failure.said);
      const applied = matched.map(
        ({ name, entries }) => [name, lastSuccess(entries)?.succeeded] as const,
      );
      const missing = applied.filter(([, s]) => s === undefined).map(([name]) => name);
      const done = applied.flatMap(([name, s]) => (s === undefined ? [] : [[name, s] as const]));
      if (missing.length > 0) {
        const heard = done.map(([name, s]) => `${name} applied ${s.revision.slice(0, 12)}`);
        return {
          phase: undefined,
          waiting: `${heard.length === 0 ? "" : `${heard.join(", ")}, but `}no success from ${missing.join(", ")}`,
        };
      }
      return confirmed(done);
    }
  }
}

function confirmed(applied: readonly (readonly [string, Said])[]): Verdict {
  const last = [...applied].sort((a, b) => b[1].seq - a[1].seq)[0];
  if (last === undefined) throw new Error("confirmed needs one Kustomization at least");
  return {
    phase: "confirmed",
    detail: applied
      .map(([name, s]) => `${name} applied ${s.revision.slice(0, 12)}: ${s.message}`)
      .join("; "),
    flux: {
      kustomization: applied.map(([name]) => name).join(", "),
      revision: last[1].revision,
      message: last[1].message,
    },
  };
}

function failed(name: string, s: Said): Verdict {
  return {
    phase: "failed",
    detail: `${name} failed at ${s.revision.slice(0, 12)}: ${s.message}`,
    flux: { kustomization: name, revision: s.revision, message: s.message },
  };
}

/** Whether a report is the Kustomization `namespace/name`; a commit status names no namespace. */
function reportedAs(r: Reported, id: string): boolean {
  return r.namespace === undefined ? id.endsWith(`/${r.name}`) : id === `${r.namespace}/${r.name}`;
}

function displayName(r: Reported): string {
  return `${r.namespace ?? "flux-system"}/${r.name}`;
}

function said(r: Reported): string {
  const parts = [
    ...(r.succeeded === undefined ? [] : [`applied ${r.succeeded.revision.slice(0, 12)}`]),
    ...(r.failed === undefined ? [] : [`failed at ${r.failed.revision.slice(0, 12)}`]),
  ];
  return `${displayName(r)} ${parts.join(", ")}`;
}

/** The first failure reported among these (by arrival), under the name it is judged by. */
function firstFailure(
  candidates: readonly { readonly name: string; readonly entry: Reported }[],
): { name: string; said: Said } | undefined {
  const failures = candidates.flatMap(({ name, entry }) =>
    entry.failed === undefined ? [] : [{ name, said: entry.failed }],
  );
  return failures.sort((a, b) => a.said.seq - b.said.seq)[0];
}

/** The entry whose success came last, if any reported one. */
function lastSuccess(entries: readonly Reported[]): Reported | undefined {
  return entries
    .filter((e) => e.succeeded !== undefined)
    .sort((a, b) => (b.succeeded?.seq ?? 0) - (a.succeeded?.seq ?? 0))[0];
}

/** Why the Kustomizations cannot be told, without an adapter's raw error (it may name URLs). */
function unknownBecause(error: unknown): string {
  return error instanceof FailoverError
    ? `${error.code}: ${error.message}`
    : "the repository read failed";
}
