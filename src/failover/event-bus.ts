import type { BackgroundWork } from "./background.js";
import type { FailoverEvent, FailoverListener } from "./events.js";

/**
 * Where the delivery pipeline announces its events and after-effects subscribe
 * (`ctx.events.on(listener)` at the composition root). Each listener runs in the background
 * work queue: `emit` returns at once, the answer never waits for a listener, and a listener
 * that throws or hangs never changes a result.
 */
export class FailoverEvents {
  readonly #listeners = new Set<FailoverListener>();
  readonly #work: BackgroundWork;

  constructor(work: BackgroundWork) {
    this.#work = work;
  }

  /** Adds a listener; returns the function that removes it. */
  on(listener: FailoverListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: FailoverEvent): void {
    for (const listener of this.#listeners) {
      this.#work.run(`listener of ${event.type}`, () => listener(event));
    }
  }

  /** Resolves when every listener has finished with every event emitted so far. */
  idle(): Promise<void> {
    return this.#work.idle();
  }
}
