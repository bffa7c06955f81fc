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
  /** Stops what else runs: config and token watchers. */
  readonly close: () => void | Promise<void>;
}

/**
 * Graceful shutdown (SIGTERM from Kubernetes, or SIGINT): readiness turns 503 at once,
 * optionally keeps accepting for `delayMs`, then stops accepting connections, waits up to
 * `timeoutMs` for in-flight requests (a failover mid-commit finishes and is answered), cuts
 * what is left, lets the background work (the audit of what was answered) finish within the
 * rest of the same budget, and stops the watchers. Returns whether everything finished.
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
  await options.close();
  logger.info("stopped");
  return drained && finished;
}
