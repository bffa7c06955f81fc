import type { Logger } from "pino";
import { eventOutcome, type FailoverListener } from "../events.js";

/**
 * One structured line per failover command, when it ends: which services, what action,
 * the outcome (or error code), the commit or PR, the duration and the trigger. Logged with
 * the request's logger when there is one (`logger` may be a function for that), so the line
 * carries the request id next to `POST ... 200`.
 */
export function logLineListener(logger: Logger | (() => Logger)): FailoverListener {
  return (event) => {
    const outcome = eventOutcome(event);
    if (outcome === undefined) return;
    const log = typeof logger === "function" ? logger() : logger;
    const services = event.services.map((s) => (typeof s === "string" ? s : s.service));
    const line = {
      operation: event.operation,
      services,
      ...(event.node === undefined ? {} : { node: event.node }),
      action: event.action,
      outcome,
      trigger: event.trigger,
      ...(event.type === "committed" ? { commit: event.commit } : {}),
      ...(event.type === "committed" || event.type === "pr_opened"
        ? event.pullRequest === undefined
          ? {}
          : { pullRequest: event.pullRequest.number }
        : {}),
      durationMs: event.durationMs,
    };
    if (event.type === "failed") log.warn({ ...line, error: event.message }, "failover failed");
    else if (event.type === "refused")
      log.info({ ...line, error: event.message }, "failover refused");
    else log.info(line, "failover done");
  };
}
