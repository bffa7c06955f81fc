import type { RequestHandler } from "express";

/** Counts requests being served, so a shutdown can wait for them (bounded). */
export class InflightRequests {
  #count = 0;
  #waiters: (() => void)[] = [];
  #closing = false;

  get count(): number {
    return this.#count;
  }

  /** From now on, answers say `Connection: close`, so keep-alive clients reconnect elsewhere. */
  closing(): void {
    this.#closing = true;
  }

  middleware(): RequestHandler {
    return (_req, res, next) => {
      this.#count++;
      if (this.#closing) res.set("Connection", "close");
      let done = false;
      res.once("close", () => {
        if (done) return;
        done = true;
        this.#count--;
        if (this.#count === 0) for (const wake of this.#waiters.splice(0)) wake();
      });
      next();
    };
  }

  /** Resolves true when no request is in flight, false when `timeoutMs` passed first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#waiters.push(wake);
    });
  }
}
