import type { Server } from "node:http";
import type { Logger } from "pino";
import type { InflightRequests } from "./inflight.js";
import type { Readiness } from "./readiness.js";

export interface ShutdownOptions {
  readonly server: Server;
  readonly readiness: Readiness;
  readonly inflight: InflightRequests;
  /** Bound on waiting for in-flight requests (SHUTDOWN_TIMEOUT_MS). */
  readonly timeoutMs: number;
  /** Accepting on while readiness is 503, so endpoints catch up (SHUTDOWN_DELAY_MS). */
  readonly delayMs: number;
  readonly logger: Logger;
  /**
   * Work still running after the answers (audit writes, Flux pings, acknowledged webhooks'
   * commands): drained after the requests, within what is left of `timeoutMs`.
   */
  readonly background?: {
    readonly pending: number;
    drain(timeoutMs: number): Promise<boolean>;
  };
  /**
   * Stops what else runs (config and token watchers) and waits for the notifications in
   * flight: awaited within what is left of `timeoutMs` (at least `MIN_CLOSE_MS`).
   */
  readonly close: () => void | Promise<void>;
}

/** Even a spent budget leaves this long to stop the watchers and send what is in flight. */
const MIN_CLOSE_MS = 1000;

/** Whether `work` finished within `ms` (its rejection propagates, as before). */
async function withinBudget(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Graceful shutdown (SIGTERM from Kubernetes, or SIGINT): readiness turns 503 at once,
 * optionally keeps accepting for `delayMs`, then stops accepting connections, waits up to
 * `timeoutMs` for in-flight requests (a failover mid-commit finishes and is answered), cuts
 * what is left, lets the background work (the audit of what was answered) finish within the
 * rest of the same budget, and stops the watchers, waiting for the notifications in flight. Returns whether everything finished.
 */
export async function gracefulShutdown(options: ShutdownOptions): Promise<boolean> {
  const { server, readiness, inflight, logger } = options;
  readiness.drain();
  inflight.closing();
  logger.info(
    { inflight: inflight.count, timeoutMs: options.timeoutMs, delayMs: options.delayMs },
    "shutting down: readiness is 503, finishing requests in flight",
  );
  if (options.delayMs > 0) await new Promise((r) => setTimeout(r, options.delayMs));
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const started = Date.now();
  const drained = await inflight.idle(options.timeoutMs);
  if (drained) {
    logger.info("all requests finished");
  } else {
    logger.warn(
      { inflight: inflight.count },
      "shutdown timeout: closing connections with requests still in flight",
    );
  }
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), drained ? 1000 : 0);
  await closed;
  clearTimeout(timer);
  let finished = true;
  const { background } = options;
  if (background !== undefined && background.pending > 0) {
    logger.info({ pending: background.pending }, "finishing background work (audit, Flux ping)");
    finished = await background.drain(options.timeoutMs - (Date.now() - started));
    if (!finished) {
      logger.warn(
        { pending: background.pending },
        "shutdown timeout: background work left unfinished",
      );
    }
  }
  // The notifications about the last failover are often why this pod is going down: wait for
  // them, but never past the budget (Kubernetes SIGKILLs at terminationGracePeriodSeconds).
  logger.info("stopping the watchers, sending the notifications in flight");
  const closed_ = await withinBudget(
    Promise.resolve().then(options.close),
    Math.max(MIN_CLOSE_MS, options.timeoutMs - (Date.now() - started)),
  );
  if (!closed_) logger.warn("shutdown timeout: notifications in flight left unsent");
  logger.info("stopped");
  return drained && finished && closed_;
}
