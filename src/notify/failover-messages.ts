import type { AutomationNotice } from "../automation/alert-trigger.js";
import type { FailoverEvent } from "../failover/events.js";
import type { Operation, Phase } from "../operations/operation.js";
import type { NotifyMessage } from "./notify-target.js";

/**
 * The pipeline's events worth a message: committed, refused, failed (not planned, not PRs).
 * Never a dry run's: a preview changes nothing, and anyone may ask for one (an anonymous
 * `GET …?dry-run=true`), so its refusal is the asker's answer, not news for the operators.
 */
export function eventMessage(event: FailoverEvent): NotifyMessage | undefined {
  const what = event.node === undefined ? "" : ` (node ${event.node})`;
  switch (event.type) {
    case "committed": {
      const moves = event.services.map((s) => `${s.service} ${s.from} -> ${s.to}`).join(", ");
      return {
        title: `failover ${event.action} committed${what}`,
        text: `${moves}: commit ${event.commit.slice(0, 12)} by ${event.requester} (${event.trigger}); waiting for Flux`,
        priority: "normal",
        event: { ...event },
      };
    }
    case "refused":
    case "failed":
      if (event.dryRun === true) return undefined;
      return {
        title: `failover ${event.action} ${event.type}${what}`,
        text: `${event.services.join(", ")}: ${event.code}: ${event.message}`,
        priority: "high",
        event: { ...event },
      };
    default:
      return undefined;
  }
}

/** Flux's word on an operation: confirmed, failed or unconfirmed. */
export function phaseMessage(op: Operation, phase: Phase): NotifyMessage | undefined {
  if (phase !== "confirmed" && phase !== "failed" && phase !== "unconfirmed") return undefined;
  const last = op.phases.at(-1);
  const rto = op.rtoSeconds === undefined ? "" : ` in ${op.rtoSeconds.toFixed(1)} s`;
  return {
    title: `failover ${op.action ?? ""} ${phase}: ${op.services.join(", ")}`.replace(/ +/g, " "),
    text:
      phase === "confirmed"
        ? `Flux applied ${op.commit?.sha.slice(0, 12) ?? "the commit"}${rto} (${op.flux?.kustomization ?? "a Kustomization"})`
        : (last?.detail ?? phase),
    priority: phase === "confirmed" ? "normal" : "high",
    event: {
      type: phase,
      operation: op.id,
      services: op.services,
      commit: op.commit?.sha,
      at: last?.at,
      rtoSeconds: op.rtoSeconds,
      flux: op.flux,
    },
  };
}

/** Automation's own news: started, held back by a guard, failed. */
export function noticeMessage(notice: AutomationNotice): NotifyMessage {
  const o = notice.outcome;
  const node = o.node === o.placement ? `node ${o.node}` : `node ${o.node} (${o.placement})`;
  const event = {
    type: notice.type,
    alertname: o.alertname,
    node: o.node,
    placement: o.placement,
    action: o.action,
    services: o.services,
    heldBack: o.heldBack,
    commit: o.commit?.sha,
    operation: o.operation,
  };
  switch (notice.type) {
    case "automatic_started":
      return {
        title: `automatic failover: ${node} ${o.status === "firing" ? "down" : "back"}`,
        text: o.message,
        priority: "high",
        event,
      };
    case "automatic_held_back":
      return {
        title: `automatic failover held back: ${node}`,
        text: o.heldBack.map((h) => `${h.guard}: ${h.message}`).join("\n"),
        priority: "high",
        event,
      };
    case "automatic_failed":
      return {
        title: `automatic failover failed: ${node}`,
        text: `${o.code ?? "failed"}: ${o.message}`,
        priority: "high",
        event,
      };
  }
}
