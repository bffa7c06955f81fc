import { revisionIncludes } from "../domain/automation/flux-revision.js";
import type { Operation } from "../operations/operation.js";
import type { OperationStore } from "../operations/operation-store.js";
import type { KustomizationReport } from "./flux-event.js";

/** Flux reconciles within minutes of a commit: the last few commits hold the revision. */
const CONFIRM_DEPTH = 30;

export interface ConfirmationOptions {
  readonly store: OperationStore;
  /**
   * The Kustomizations (`namespace/name`) that build an operation's services; undefined when
   * they cannot be told, and then any Kustomization reconciling the commit confirms.
   */
  readonly kustomizationsFor?: (op: Operation) => Promise<ReadonlySet<string> | undefined>;
}

/**
 * Turns Flux's reports into operation phases: `confirmed` when a Kustomization that builds
 * the operation's manifests reconciled the failover commit or a later one, `failed` when it
 * reported an error for such a revision. (`unconfirmed` is the store's timeout.)
 */
export class FluxConfirmation {
  readonly #options: ConfirmationOptions;
  readonly #expected = new Map<string, Promise<ReadonlySet<string> | undefined>>();
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
    const settled: string[] = [];
    for (const op of store.pending()) {
      if (op.commit === undefined) continue;
      if (revisionIncludes(order, report.revision, op.commit.sha) !== true) continue;
      if (!(await this.#builds(op, report))) continue;
      const kustomization = `${report.namespace ?? "flux-system"}/${report.name}`;
      const phase = report.outcome === "succeeded" ? "confirmed" : "failed";
      const done = store.settle(
        op.id,
        phase,
        `${kustomization} ${report.outcome === "succeeded" ? "applied" : "failed at"} ${report.revision.slice(0, 12)}: ${report.message}`,
        { kustomization, revision: report.revision, message: report.message },
      );
      if (done !== undefined) settled.push(op.id);
    }
    return settled;
  }

  /** Starts finding an operation's Kustomizations as soon as it is committed. */
  prefetch(op: Operation): Promise<unknown> {
    return this.#lookup(op);
  }

  #lookup(op: Operation): Promise<ReadonlySet<string> | undefined> {
    const lookup = this.#options.kustomizationsFor;
    if (lookup === undefined) return Promise.resolve(undefined);
    let expected = this.#expected.get(op.id);
    if (expected === undefined) {
      expected = lookup(op).catch(() => undefined);
      this.#expected.set(op.id, expected);
      if (this.#expected.size > 1000) {
        const oldest = this.#expected.keys().next().value;
        if (oldest !== undefined) this.#expected.delete(oldest);
      }
    }
    return expected;
  }

  async #builds(op: Operation, report: KustomizationReport): Promise<boolean> {
    if (this.#options.kustomizationsFor === undefined) return true;
    const names = await this.#lookup(op);
    if (names === undefined || names.size === 0) return true;
    return (
      names.has(`${report.namespace ?? ""}/${report.name}`) ||
      // A commit status names the Kustomization without its namespace.
      (report.namespace === undefined && [...names].some((n) => n.endsWith(`/${report.name}`)))
    );
  }
}
