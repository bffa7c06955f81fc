export interface RunningOperation {
  readonly id: number;
  readonly what: string;
  readonly by: string;
  readonly since: string;
}

/**
 * The writes the page started that have not answered yet, for the live view every open page
 * polls: a second person sees that sonarr is being promoted before the commit lands.
 */
export class InProgress {
  readonly #running = new Map<number, RunningOperation>();
  #next = 1;

  async track<T>(what: string, by: string, run: () => Promise<T>): Promise<T> {
    const id = this.#next++;
    this.#running.set(id, { id, what, by, since: new Date().toISOString() });
    try {
      return await run();
    } finally {
      this.#running.delete(id);
    }
  }

  list(): RunningOperation[] {
    return [...this.#running.values()];
  }
}
