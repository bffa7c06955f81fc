import type { RequestHandler } from "express";

interface Bucket {
  tokens: number;
  updated: number;
}

/**
 * A token bucket per client address for requests that may write (every method but GET and
 * HEAD): `perMinute` requests in a burst, refilled continuously at `perMinute` a minute.
 * Webhook deliveries (`exempt`) are not limited: GitHub signs them and retries on errors.
 * `now` is injectable for tests.
 */
export class RateLimiter {
  readonly perMinute: number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;
  #lastSweep: number;

  constructor(perMinute: number, now: () => number = () => performance.now()) {
    this.perMinute = perMinute;
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
      if (
        this.perMinute <= 0 ||
        req.method === "GET" ||
        req.method === "HEAD" ||
        exempt(req.path)
      ) {
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
          message: `more than ${this.perMinute} requests a minute from this client; retry in ${wait} s`,
          details: { retryAfterSeconds: wait },
        },
      });
    };
  }
}
