import type { Operation, Phase } from "../operations/operation.js";
import { confirmationLine } from "../presenters/chatops-markdown.js";

/** A ChatOps reply that can still be edited: its text as posted, and how to replace it. */
export interface EditableReply {
  readonly body: string;
  edit(body: string): Promise<unknown>;
}

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
  readonly #run: (what: string, task: () => Promise<unknown>) => void;

  constructor(run: (what: string, task: () => Promise<unknown>) => void) {
    this.#run = run;
  }

  remember(operation: string, reply: EditableReply): void {
    this.#replies.set(operation, reply);
    if (this.#replies.size > REMEMBERED) {
      const oldest = this.#replies.keys().next().value;
      if (oldest !== undefined) this.#replies.delete(oldest);
    }
  }

  get size(): number {
    return this.#replies.size;
  }

  /** The operation store's phase hook. */
  readonly onPhase = (operation: Operation, phase: Phase): void => {
    if (!FINAL_FOR_REPLY.has(phase)) return;
    const reply = this.#replies.get(operation.id);
    if (reply === undefined) return;
    this.#replies.delete(operation.id);
    const line = confirmationLine(operation, phase as "confirmed" | "failed" | "unconfirmed");
    this.#run(`reply confirmation ${phase}`, () => reply.edit(`${reply.body}\n\n${line}`));
  };
}
