import type { Octokit, OctokitOptions } from "@octokit/core";

export interface PacingOptions {
  /** GitHub's guidance: at least a second between mutative requests. */
  readonly minWriteIntervalMs?: number;
  /** A `retry-after` longer than this fails the request instead of stalling a failover. */
  readonly maxRetryAfterSeconds?: number;
  readonly maxRetries?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface RequestOptions {
  method: string;
  url: string;
  query?: unknown;
  [key: string]: unknown;
}

/**
 * Replaces the throttling plugin's pacing, which puts every GraphQL request (reads too) in
 * its one-per-second write queue and so delays a failover's write behind its own read.
 * Here only mutations are spaced, and the only other waits are the ones GitHub asks for
 * with `retry-after` (secondary rate limits, 429).
 */
export function pacing(octokit: Octokit, octokitOptions: OctokitOptions) {
  const options = (octokitOptions as { pacing?: PacingOptions }).pacing ?? {};
  const interval = options.minWriteIntervalMs ?? 1000;
  const maxRetryAfter = options.maxRetryAfterSeconds ?? 60;
  const maxRetries = options.maxRetries ?? 2;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let nextWriteAt = 0;

  octokit.hook.wrap("request", async (request, requestOptions) => {
    const opts = requestOptions as unknown as RequestOptions;
    if (isMutation(opts)) {
      const now = Date.now();
      const at = Math.max(now, nextWriteAt);
      nextWriteAt = at + interval;
      if (at > now) await sleep(at - now);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        return await request(requestOptions);
      } catch (error) {
        const seconds = retryAfterSeconds(error);
        if (seconds === undefined || seconds > maxRetryAfter || attempt >= maxRetries) throw error;
        octokit.log.warn(`GitHub asked to retry ${opts.method} ${opts.url} after ${seconds}s`);
        await sleep(seconds * 1000);
      }
    }
  });
  return {};
}

function isMutation(options: RequestOptions): boolean {
  const method = options.method.toUpperCase();
  if (method === "GET" || method === "HEAD") return false;
  if (/\/app\/installations\/[^/]+\/access_tokens$/.test(options.url)) return false;
  if (/\/graphql$/.test(options.url)) {
    return typeof options.query === "string" && /^\s*mutation\b/.test(options.query);
  }
  return true;
}

function retryAfterSeconds(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { status, response } = error as {
    status?: number;
    response?: { headers?: Record<string, string | undefined> };
  };
  if (status !== 403 && status !== 429) return undefined;
  const header = response?.headers?.["retry-after"];
  if (header === undefined) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}
