import type { Action } from "../service.js";
import type { WorkloadState } from "../state.js";
import type { UnknownAfterFailover } from "./automatic-history.js";

/** Why an automatic action was held back; each one is configurable (docs/automation.md). */
export const GUARDS = [
  "auto_failover_after",
  "alert_not_resent",
  "cooldown",
  "locked",
  "one_node_at_a_time",
  "auto_failback_disabled",
  "auto_failback_after",
  "not_moved_automatically",
  "node_still_down",
  "node_health_unknown",
  "state_unknown",
  "max_rpo",
  "backup_not_ready",
] as const;
export type Guard = (typeof GUARDS)[number];

export interface HoldBack {
  readonly guard: Guard;
  /** Absent: the guard holds back the whole node. */
  readonly service?: string;
  readonly message: string;
  /** When the guard stops holding (ms since the epoch), for guards that pass with time. */
  readonly retryAt?: number;
}

/** One service on the alert's node, as Git and services.yaml say now. */
export interface ServiceFacts {
  readonly service: string;
  readonly autoFailover: boolean;
  readonly autoFailback: boolean;
  readonly autoFailbackAfterMs: number;
  readonly cooldownMs: number;
  readonly locked: boolean;
  readonly state: WorkloadState;
  /** The last automatic commit that moved it (ms since the epoch), from Git. */
  readonly lastAutomaticAt: number | undefined;
  /** The newest failover commit that moved it (any trigger), from Git; absent: none read. */
  readonly lastMove: LastMove | undefined;
}

/** Who moved a service last: a failback undoes only an automatic promote of its node. */
export interface LastMove {
  readonly sha: string;
  readonly trigger: string | undefined;
  readonly requester: string | undefined;
  /** The node of a node-wide commit (the placement value). */
  readonly node: string | undefined;
  readonly action: string;
}

export interface NodeAlert {
  readonly status: "firing" | "resolved";
  /** The placement label value the node resolves to. */
  readonly node: string;
  readonly startsAt: number;
  /** For a resolved alert: when it resolved. */
  readonly endsAt: number | undefined;
}

export interface AutomationDecision {
  readonly action: Action | undefined;
  /** The services to move now (opted in, past every guard, not already there). */
  readonly services: readonly string[];
  readonly heldBack: readonly HoldBack[];
  /** Opted-in services already where the action would put them. */
  readonly alreadyThere: readonly string[];
}

export interface DecisionInput {
  readonly alert: NodeAlert;
  readonly now: number;
  readonly autoFailoverAfterMs: number;
  readonly services: readonly ServiceFacts[];
  /** Another node whose services an automatic failover moved and that are not back yet. */
  readonly otherFailedOverNode: string | undefined;
  /**
   * Another node's automatic failover moved a service whose state cannot be read now: whether
   * that node is back cannot be told. Absent: none.
   */
  readonly otherNodeUnknown?: UnknownAfterFailover | undefined;
  /**
   * The alert is this process's own memory of an earlier delivery (its auto_failover_after
   * timer), not a delivery, and nothing else (the cluster) says it still fires: its resolve
   * may have gone to another replica. Absent: false.
   */
  readonly alertReplayed?: boolean;
}

/**
 * What an alert about a node may do automatically, and what holds the rest back. Pure: the
 * clock is `now`, everything else is facts read from Git and services.yaml. A firing alert
 * promotes opted-in services (`auto_failover`); a resolved one demotes only those with
 * `auto_failback`, once the node has been healthy for their `auto_failback_after`.
 */
export function decideAutomaticAction(input: DecisionInput): AutomationDecision {
  const { alert, now } = input;
  const firing = alert.status === "firing";
  const action: Action = firing ? "promote" : "demote";
  const wanted = firing ? "backup" : "primary";
  const heldBack: HoldBack[] = [];
  const alreadyThere: string[] = [];
  const optedIn = input.services.filter((s) => s.autoFailover);
  if (firing) {
    const due = alert.startsAt + input.autoFailoverAfterMs;
    if (now < due) {
      return hold(action, {
        guard: "auto_failover_after",
        message: `node ${alert.node} has been reported down for ${seconds(now - alert.startsAt)}; automatic failover waits ${seconds(input.autoFailoverAfterMs)} (automation.auto_failover_after)`,
        retryAt: due,
      });
    }
    if (input.alertReplayed === true) {
      // Only Alertmanager knows the alert still fires; it says so again every repeat_interval,
      // to whichever replica it reaches, and that delivery acts.
      return hold(action, {
        guard: "alert_not_resent",
        message: `node ${alert.node}'s alert is old enough (automation.auto_failover_after), but nothing says it still fires: its resolve may have gone to another replica, so failover waits for Alertmanager to send it again (repeat_interval)`,
      });
    }
    if (input.otherFailedOverNode !== undefined && input.otherFailedOverNode !== alert.node) {
      return hold(action, {
        guard: "one_node_at_a_time",
        message: `node ${input.otherFailedOverNode} is failed over automatically already; at most one node is, so node ${alert.node} needs a person (POST /api/nodes/${alert.node}/promote)`,
      });
    }
    const unknown = input.otherNodeUnknown;
    if (unknown !== undefined && unknown.node !== alert.node) {
      return hold(action, {
        guard: "state_unknown",
        message: `node ${unknown.node}'s automatic failover moved ${unknown.service}, whose state cannot be read from Git (${unknown.reason ?? "no reason given"}), so whether node ${unknown.node} is back cannot be told and at most one node fails over automatically: fix ${unknown.service}'s manifest or config, or fail node ${alert.node} over by hand (POST /api/nodes/${alert.node}/promote)`,
      });
    }
  }
  const services: string[] = [];
  for (const s of optedIn) {
    if (s.state === wanted) {
      alreadyThere.push(s.service);
      continue;
    }
    if (!firing && !s.autoFailback) {
      heldBack.push({
        guard: "auto_failback_disabled",
        service: s.service,
        message: `${s.service} does not set auto_failback: true; fail it back by hand`,
      });
      continue;
    }
    if (s.state === "unknown") {
      heldBack.push({
        guard: "state_unknown",
        service: s.service,
        message: `${s.service}'s state cannot be read from Git; nothing automatic moves it`,
      });
      continue;
    }
    if (s.locked) {
      heldBack.push({
        guard: "locked",
        service: s.service,
        message: `${s.service} is locked; no automatic action moves a locked service`,
      });
      continue;
    }
    if (!firing) {
      // A failback undoes an automatic failover of this node, never what a person moved.
      const m = s.lastMove;
      const automatic =
        m !== undefined &&
        m.trigger === "alertmanager" &&
        m.action === "promote" &&
        m.node === alert.node;
      if (!automatic) {
        heldBack.push({
          guard: "not_moved_automatically",
          service: s.service,
          message:
            m === undefined
              ? `${s.service}: no failover commit moving it is in the branch's recent history, so nothing says an automatic failover of node ${alert.node} moved it; fail it back by hand (POST /api/failover/${s.service}/demote)`
              : `${s.service} was moved last by ${m.requester ?? m.trigger ?? "someone"} (${m.action}, commit ${m.sha.slice(0, 12)}), not by an automatic failover of node ${alert.node}; fail it back by hand (POST /api/failover/${s.service}/demote)`,
        });
        continue;
      }
      const healthySince = alert.endsAt ?? now;
      const due = healthySince + s.autoFailbackAfterMs;
      if (now < due) {
        heldBack.push({
          guard: "auto_failback_after",
          service: s.service,
          message: `node ${alert.node} has been healthy for ${seconds(Math.max(0, now - healthySince))}; ${s.service} fails back after ${seconds(s.autoFailbackAfterMs)} (auto_failback_after)`,
          retryAt: due,
        });
        continue;
      }
    }
    if (s.lastAutomaticAt !== undefined && now < s.lastAutomaticAt + s.cooldownMs) {
      heldBack.push({
        guard: "cooldown",
        service: s.service,
        message: `${s.service} was moved automatically ${seconds(now - s.lastAutomaticAt)} ago; its cooldown is ${seconds(s.cooldownMs)}`,
        retryAt: s.lastAutomaticAt + s.cooldownMs,
      });
      continue;
    }
    services.push(s.service);
  }
  return { action: services.length > 0 ? action : undefined, services, heldBack, alreadyThere };
}

function hold(_action: Action, holdBack: HoldBack): AutomationDecision {
  return { action: undefined, services: [], heldBack: [holdBack], alreadyThere: [] };
}

/** `125000` -> `2m5s`, the way the settings are written. */
export function seconds(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const text = `${h > 0 ? `${h}h` : ""}${m > 0 ? `${m}m` : ""}${s > 0 ? `${s}s` : ""}`;
  return text === "" ? "0s" : text;
}
