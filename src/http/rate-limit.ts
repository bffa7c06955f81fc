import type { RequestHandler } from "express";

interface Bucket {
  tokens: number;
  updated: number;
}

/** Which requests a limiter counts: those that may write (every method but GET and HEAD), or reads. */
export type LimitedRequests = "writes" | "reads";

/**
 * A token bucket per client address for one kind of request (`limits`): `perMinute`
 * requests in a burst, refilled continuously at `perMinute` a minute. Reads and writes
 * have separate limiters, so a client polling status cannot use up its failovers, and an
 * unauthenticated flood of GETs cannot run up the Git backend. `exempt` paths are not
 * counted (webhook deliveries: GitHub signs them and retries; the probes). `now` is
 * injectable for tests.
 */
export class RateLimiter {
  readonly perMinute: number;
  readonly limits: LimitedRequests;
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;
  #lastSweep: number;

  constructor(
    perMinute: number,
    now: () => number = () => performance.now(),
    limits: LimitedRequests = "writes",
  ) {
    this.perMinute = perMinute;
    this.limits = limits;
    this.#now = now;
    this.#lastSweep = now();
  }

  /** Takes one token for `key`: 0 when allowed, else the seconds until one is available. */
  take(key: string): number {
    const now = this.#now();
    const rate = this.perMinute / 60_000; // tokens per ms
    this.#sweep(now, rate);
    const bucket = this.#buckets.get(key) ?? { tokens: this.perMinute, updated: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.updated) * rate);
    bucket.updated = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate / 1000));
  }

  /** Forgets clients whose bucket is full again (at most once a minute). */
  #sweep(now: number, rate: number): void {
    if (now - this.#lastSweep < 60_000) return;
    this.#lastSweep = now;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.updated) * rate >= this.perMinute)
        this.#buckets.delete(key);
    }
  }

  middleware(exempt: (path: string) => boolean = () => false): RequestHandler {
    return (req, res, next) => {
      const read = req.method === "GET" || req.method === "HEAD";
      if (this.perMinute <= 0 || read !== (this.limits === "reads") || exempt(req.path)) {
        next();
        return;
      }
      const wait = this.take(req.ip ?? req.socket.remoteAddress ?? "unknown");
      if (wait === 0) {
        next();
        return;
      }
      res.set("Retry-After", String(wait));
      res.status(429).json({
        error: {
          code: "rate_limited",
          message: `more than ${this.perMinute} ${this.limits === "reads" ? "reads" : "requests"} a minute from this client; retry in ${wait} s`,
          details: { retryAfterSeconds: wait },
        },
      });
    };
  }
}
