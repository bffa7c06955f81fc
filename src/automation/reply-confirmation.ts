import type { Operation, Phase } from "../operations/operation.js";
import { confirmationLine } from "../presenters/chatops-markdown.js";

/** A ChatOps reply that can still be edited: its text as posted, and how to replace it. */
export interface EditableReply {
  readonly body: string;
  edit(body: string): Promise<unknown>;
}

type Settled = "confirmed" | "failed" | "unconfirmed";
const FINAL_FOR_REPLY = new Set<Phase>(["confirmed", "failed", "unconfirmed"]);
/** Replies waiting for Flux: bounded, oldest forgotten first. */
const REMEMBERED = 500;

/**
 * The ChatOps reply, edited once more when Flux has spoken (issue 12): one line with the
 * result and the time from the request to Flux applied. The replies are remembered in
 * memory by operation id: a reply written before a restart is not edited after it (the
 * operation and its Deployment still are; the comment keeps its commit link).
 */
export class ReplyConfirmations {
  readonly #replies = new Map<string, EditableReply>();
  /**
   * Operations Flux has already spoken of with no reply remembered yet: a confirmation can
   * beat the reply's own POST (a fast Flux, a slow GitHub), and the reply is then edited as
   * soon as it is known.
   */
  readonly #settled = new Map<string, { operation: Operation; phase: Settled }>();
  readonly #run: (what: string, task: () => Promise<unknown>) => void;

  constructor(run: (what: string, task: () => Promise<unknown>) => void) {
    this.#run = run;
  }

  remember(operation: string, reply: EditableReply): void {
    const settled = this.#settled.get(operation);
    if (settled !== undefined) {
      this.#settled.delete(operation);
      this.#edit(reply, settled.operation, settled.phase);
      return;
    }
    bounded(this.#replies, operation, reply);
  }

  get size(): number {
    return this.#replies.size;
  }

  /** The operation store's phase hook. */
  readonly onPhase = (operation: Operation, phase: Phase): void => {
    if (!FINAL_FOR_REPLY.has(phase)) return;
    const reply = this.#replies.get(operation.id);
    if (reply === undefined) {
      bounded(this.#settled, operation.id, { operation, phase: phase as Settled });
      return;
    }
    this.#replies.delete(operation.id);
    this.#edit(reply, operation, phase as Settled);
  };

  #edit(reply: EditableReply, operation: Operation, phase: Settled): void {
    const line = confirmationLine(operation, phase);
    this.#run(`reply confirmation ${phase}`, () => reply.edit(`${reply.body}\n\n${line}`));
  }
}

function bounded<V>(map: Map<string, V>, key: string, value: V): void {
  map.set(key, value);
  if (map.size > REMEMBERED) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}
