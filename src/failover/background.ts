/**
 * Work that runs after the answer: listeners of a failover's events, a webhook's ChatOps
 * command. Tracked so that shutdown can drain it (SIGTERM: finish the audit writes before
 * the pod goes) and tests can wait for it explicitly (`idle()`), never with sleeps.
 */
export class BackgroundWork {
  readonly #pending = new Set<Promise<void>>();
  readonly #onError: (error: unknown, what: string) => void;

  constructor(onError: (error: unknown, what: string) => void) {
    this.#onError = onError;
  }

  /** Starts `task` now; its failure goes to `onError`, never to the caller. */
  run(what: string, task: () => unknown): void {
    const done: Promise<void> = Promise.resolve()
      .then(task)
      .then(
        () => undefined,
        (error: unknown) => {
          try {
            this.#onError(error, what);
          } catch {
            // reporting a failure must not fail either
          }
        },
      )
      .finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** Resolves when nothing is pending, including work started by work that was pending. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** `idle()` bounded by `timeoutMs`: true when everything finished in time. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#pending.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
    });
    try {
      return await Promise.race([this.idle().then(() => true as const), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}
