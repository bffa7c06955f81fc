import type { AuditedEvent, AuditTrail } from "../audit-trail.js";
import type { FailoverEvent, FailoverListener } from "../events.js";

/** Failures worth a failed record: the service exists and the attempt was real. */
const AUDITED_FAILURES = new Set(["refused", "conflict", "upstream"]);

function audited(event: FailoverEvent): event is AuditedEvent {
  if (event.type === "committed" || event.type === "pr_opened") return true;
  if (event.type !== "refused" && event.type !== "failed") return false;
  return event.dryRun !== true && AUDITED_FAILURES.has(event.code);
}

/** Records every landed or proposed change, and every real failed attempt, in the trail. */
export function auditListener(trail: AuditTrail): FailoverListener {
  return async (event) => {
    if (audited(event)) await trail.record(event);
  };
}
