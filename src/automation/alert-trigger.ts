import type { Logger } from "pino";
import type { KubeReader } from "../cluster/kube-reader.js";
import { backupNodeSelector, rpoCheck } from "../cluster/rpo-check.js";
import {
  automationSettings,
  nodeNamesFor,
  resolveNodeName,
  serviceAutomation,
} from "../config/automation-config.js";
import {
  alertKeyOf,
  alertRequester,
  automaticFailoverUnknown,
  type FailoverCommit,
  lastAutomaticMoves,
  lastMoveOf,
  nodeFailedOverAutomatically,
} from "../domain/automation/automatic-history.js";
import {
  type AutomationDecision,
  decideAutomaticAction,
  type HoldBack,
  seconds,
} from "../domain/automation/guards.js";
import { FailoverError } from "../domain/errors.js";
import type { Action, ServiceSpec } from "../domain/service.js";
import type { FailoverContext, Recheck } from "../failover/context.js";
import { executeNodeFailover } from "../failover/execute-failover.js";
import { getAllStatus } from "../failover/status.js";
import type { AllStatus } from "../failover/status-types.js";
import { type BranchHistory, readBranchHistory } from "../operations/failover-commits.js";
import { alertKey } from "./alert-key.js";
import type { AlertmanagerApi, GettableAlert } from "./alertmanager-api.js";
import type { Alert, AlertmanagerPayload } from "./alertmanager-payload.js";
import { type Scheduler, timerScheduler } from "./scheduler.js";

export type AlertResult =
  | "applied"
  | "pr_opened"
  | "pr_merged"
  | "pr_armed"
  | "no_op"
  | "held_back"
  | "ignored"
  | "failed";

/** What one alert of a payload did; the same alert sent again gets the same answer. */
export interface AlertOutcome {
  readonly alertname: string;
  readonly fingerprint: string;
  readonly status: "firing" | "resolved";
  /** The node as the alert named it, and the placement value it resolved to. */
  readonly node: string | undefined;
  readonly placement: string | undefined;
  readonly key: string;
  readonly result: AlertResult;
  readonly action: Action | undefined;
  readonly services: readonly string[];
  readonly heldBack: readonly HoldBack[];
  readonly commit: { readonly sha: string; readonly url: string | undefined } | undefined;
  /** The operation id (the commit's Failover-Request trailer) when something was written. */
  readonly operation: string | undefined;
  /** True when this answer is a retry's: the first delivery's answer, nothing done again. */
  readonly duplicate: boolean;
  readonly message: string;
  /** For `failed`: the error code. */
  readonly code?: string;
}

/** What automation tells notifications and metrics, besides the pipeline's events. */
export type AutomationNotice =
  | { readonly type: "automatic_started"; readonly outcome: AlertOutcome }
  | { readonly type: "automatic_held_back"; readonly outcome: AlertOutcome }
  | { readonly type: "automatic_failed"; readonly outcome: AlertOutcome };

export interface AlertTriggerOptions {
  readonly ctx: FailoverContext;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly notice?: (notice: AutomationNotice) => void;
  /**
   * Cluster access for the RPO gate and the failback's node Ready check; absent: RPO unknown,
   * and the node's Ready condition is not read.
   */
  readonly kube?: KubeReader | undefined;
  /**
   * Alertmanager's API (FAILOVER_ALERTMANAGER_URL): before a failback, the node-down alerts it
   * holds as firing, whichever replica they were sent to. Absent: not asked.
   */
  readonly alertmanager?: AlertmanagerApi | undefined;
  /** Runs `run` after `delayMs`, returns its cancel; default a timer (tests drive their own). */
  readonly schedule?: Scheduler | undefined;
}

const MAX_REMEMBERED = 1000;
/**
 * A firing node-down alert this replica was sent and not sent the resolve of is "known firing"
 * this long after it was last sent. Alertmanager sends a firing alert again every
 * repeat_interval (1m in the example route), so a still-firing alert is refreshed well within
 * it; the bound keeps a resolve that went to the other replica from holding failbacks here
 * for good.
 */
const FIRING_MEMORY_MS = 60 * 60_000;
/** How soon a failback held because the node's health could not be read is looked at again. */
const HEALTH_RECHECK_MS = 60_000;

/** What this process remembers of one alert (by its key). */
interface Remembered {
  /** The last answer given (duplicate: false). */
  readonly outcome: AlertOutcome;
  /** The newest answer that moved services, answered again while nothing more moves. */
  readonly acted: AlertOutcome | undefined;
  /** The services this alert moved (or opened a PR for): never moved again by it. */
  readonly done: ReadonlySet<string>;
  /** Guards still hold some of its services: a re-send is decided again, not a duplicate. */
  readonly pending: boolean;
  /** The holds last reported (guard and service), so a re-send holding the same is not notified again. */
  readonly holds: string;
}

/** A firing node-down alert as this replica was last sent it. */
interface KnownFiring {
  readonly alertname: string;
  readonly node: string;
  readonly startsAt: number;
  readonly seenAt: number;
}

/**
 * The Alertmanager trigger: a node-down alert becomes a guarded node-wide promote of the
 * services that opted in, a resolved one a guarded failback. Alerts are handled one at a
 * time (in this process; across replicas the compare-and-swap commit makes the second a
 * no-op). Guard state is read from Git on every alert.
 */
export class AlertTrigger {
  readonly #options: AlertTriggerOptions;
  readonly #now: () => number;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #schedule: Scheduler;
  readonly #answers = new Map<string, Remembered>();
  /** Re-evaluations of alerts held back by a guard that passes with time, by node. */
  readonly #timers = new Map<string, { status: string; fingerprint: string; cancel: () => void }>();
  /** Firing node-down alerts this replica was sent, by placement value, then fingerprint. */
  readonly #firing = new Map<string, Map<string, KnownFiring>>();
  #closed = false;

  constructor(options: AlertTriggerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#schedule = options.schedule ?? timerScheduler;
  }

  /**
   * Every alert of the payload, answered in order. The firing ones are handled first (and
   * what the whole payload says fires is known before any alert is judged, #enqueue): a
   * payload holding one node-down alert still firing and another one's resolve for the same
   * node must not fail back onto that node.
   */
  async handle(payload: AlertmanagerPayload): Promise<AlertOutcome[]> {
    const order = payload.alerts
      .map((alert, index) => ({ alert, index }))
      .sort((a, b) => rank(a.alert) - rank(b.alert));
    const outcomes = await this.#enqueue(
      payload.groupKey,
      order.map((o) => o.alert),
      false,
    );
    const answers: AlertOutcome[] = [];
    order.forEach((o, i) => {
      const outcome = outcomes[i];
      if (outcome !== undefined) answers[o.index] = outcome;
    });
    return answers;
  }

  /**
   * `replayed`: the alerts are this process's memory of an earlier delivery (a timer), not a
   * delivery, and nothing confirmed they still fire.
   */
  #enqueue(groupKey: string, alerts: readonly Alert[], replayed: boolean): Promise<AlertOutcome[]> {
    const run = this.#queue.then(async () => {
      // What a delivery says fires and resolved is known before any of its alerts is judged:
      // a resolve is not failed back while the same payload says another alert fires, nor
      // held by an alert the same payload resolves.
      if (!replayed) for (const alert of alerts) this.#observe(alert, this.#now());
      const outcomes: AlertOutcome[] = [];
      for (const alert of alerts) outcomes.push(await this.#one(groupKey, alert, replayed));
      return outcomes;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Stops the scheduled looks and waits for the alert being handled. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const { cancel } of this.#timers.values()) cancel();
    this.#timers.clear();
    await this.#queue;
  }

  async #one(groupKey: string, alert: Alert, replayed: boolean): Promise<AlertOutcome> {
    const { ctx } = this.#options;
    const config = ctx.config();
    const settings = automationSettings(config);
    const alertname = alert.labels.alertname ?? "unknown";
    const key = alertKey({ groupKey, ...alert });
    const node = alert.labels.failover_node ?? alert.labels[settings.nodeLabel];
    const base = {
      alertname,
      fingerprint: alert.fingerprint,
      status: alert.status,
      node,
      key,
      placement: undefined,
      action: undefined,
      services: [],
      heldBack: [],
      commit: undefined,
      operation: undefined,
      duplicate: false,
    } satisfies Partial<AlertOutcome>;
    const nodeDown =
      alert.labels.failover_node !== undefined || settings.alertNames.includes(alertname);
    if (!nodeDown) {
      return { ...base, result: "ignored", message: `${alertname} is not a node-down alert` };
    }
    if (node === undefined || node === "") {
      return {
        ...base,
        result: "ignored",
        message: `${alertname} has no ${settings.nodeLabel} (or failover_node) label naming the node`,
      };
    }
    const placement = resolveNodeName(config, node);
    const now = this.#now();
    // Before the duplicate answer: a re-sent firing alert still says the node is down, so it
    // cancels a pending failback of its node; a resolve cancels its own alert's pending look.
    if (alert.status === "firing") this.#cancel(placement, "resolved");
    else this.#cancel(placement, "firing", alert.fingerprint);
    const remembered = this.#answers.get(key);
    if (remembered !== undefined && !remembered.pending) {
      return { ...remembered.outcome, duplicate: true };
    }
    const specs = [...config.services.values()].filter((s) => s.nodes.primary === placement);
    const withNode = { ...base, placement };
    if (specs.length === 0) {
      return {
        ...withNode,
        result: "ignored",
        message: `no service has primary node ${placement}${placement === node ? "" : ` (${node})`}`,
      };
    }
    const branch = await ctx.branch();
    // Independent reads, side by side: the guards' history and the services' states.
    const [history, status] = await Promise.all([
      readBranchHistory(ctx.repo, branch),
      getAllStatus(ctx),
    ]);
    // What this alert did already (this process's memory, or Git's trailers after a restart):
    // those services are never moved again by it; the others it held back are decided again.
    const handled = history.commits.filter((c) => alertKeyOf(c.requester) === key);
    const done = new Set([
      ...(remembered?.done ?? []),
      ...handled.flatMap((c) => c.moves.map((m) => m.service)),
    ]);
    const newest = handled[0];
    const acted =
      remembered?.acted ??
      (newest === undefined ? undefined : this.#handledAlready(withNode, newest));
    const open = specs.filter((s) => !done.has(s.name));
    const facts = { alert, placement, specs: open, replayed };
    const decision = this.#decide({ ...facts, history, status, now });
    const gated =
      decision.action === "promote"
        ? await this.#rpoGate(decision, now)
        : decision.action === "demote"
          ? await this.#failbackGate(decision, { placement, node, now })
          : decision;
    const decided = { ...withNode, heldBack: gated.heldBack };
    this.#scheduleLook(groupKey, alert, placement, gated.heldBack);
    const unmoved = (
      heldBack: readonly HoldBack[],
      otherwise: () => AlertOutcome,
      pending = heldBack.length > 0,
    ) => this.#unmoved({ key, remembered, acted, done, heldBack, pending, otherwise });
    if (open.length === 0 || gated.action === undefined) {
      const optedIn = open.filter((s) => serviceAutomation(config, s.name).autoFailover);
      return unmoved(gated.heldBack, () =>
        gated.heldBack.length > 0
          ? {
              ...decided,
              result: "held_back",
              message: gated.heldBack.map((h) => h.message).join("; "),
            }
          : {
              ...decided,
              result: "no_op",
              services: gated.alreadyThere,
              message:
                optedIn.length === 0
                  ? `no service on node ${placement} sets auto_failover: true`
                  : `nothing to move: ${gated.alreadyThere.join(", ")} already where the alert would put them`,
            },
      );
    }
    const action = gated.action;
    const chosen = new Set(gated.services);
    const full = ctx.config();
    // The decision holds for a commit on the head it was read at. When the pipeline reads
    // another head (a commit landed meanwhile: another replica's, another alert's), the
    // guards are decided again from that head's history and states, and the services they
    // hold back now are not committed (the pipeline asks again after every lost
    // compare-and-swap, so the decision holds at the head the commit lands on).
    const decidedAt = history.order[0];
    const heldAtCommit = new Map<string, HoldBack>();
    const recheck: Recheck = async (head) => {
      if (head === decidedAt && head === status.head) return undefined;
      const [fresh, freshStatus] = await Promise.all([
        readBranchHistory(ctx.repo, branch),
        getAllStatus(ctx),
      ]);
      const again = this.#decide({
        ...facts,
        history: fresh,
        status: freshStatus,
        now: this.#now(),
      });
      const nodeWide = again.heldBack.some((h) => h.service === undefined);
      const allowed = new Set(
        nodeWide ? [] : [...chosen].filter((s) => !again.heldBack.some((h) => h.service === s)),
      );
      heldAtCommit.clear();
      for (const h of again.heldBack) {
        const withheld =
          h.service === undefined || (chosen.has(h.service) && !allowed.has(h.service));
        if (withheld) heldAtCommit.set(`${h.guard} ${h.service ?? ""}`, h);
      }
      return allowed;
    };
    // The node-wide use case moves every service whose primary is the node: give it a view of
    // the config holding only the services past every guard.
    const narrowed: FailoverContext = {
      ...ctx,
      config: () => ({
        ...full,
        services: new Map([...full.services].filter(([name]) => chosen.has(name))),
      }),
      recheck,
    };
    try {
      const result = await executeNodeFailover(narrowed, {
        node: placement,
        action,
        dryRun: false,
        trigger: "alertmanager",
        requester: alertRequester(alertname, key),
      });
      const moved = result.services.flatMap((s) => (s.result === "changed" ? [s.service] : []));
      const refused = result.services.flatMap((s) =>
        s.result === "refused" || s.result === "locked"
          ? [{ guard: "locked" as const, service: s.service, message: s.message }]
          : [],
      );
      const commit =
        result.outcome === "applied"
          ? { sha: result.commit.sha, url: result.commit.url }
          : result.outcome === "pr_merged"
            ? { sha: result.merge.sha, url: undefined }
            : undefined;
      const heldNow = [...heldAtCommit.values()];
      const heldBack = [...gated.heldBack, ...heldNow, ...refused];
      // A service the pipeline refused (a lock taken meanwhile, a state it will not move) is
      // decided again on a re-send only when a guard holds something too: each attempt at a
      // refused failover is a failed Deployment in the audit, not to repeat every minute.
      const pending = gated.heldBack.length + heldNow.length > 0;
      if (moved.length === 0) {
        // Nothing written: a guard the head the commit would have landed on holds, or the
        // services were where the alert would put them by then.
        return unmoved(
          heldBack,
          () =>
            heldNow.length > 0
              ? {
                  ...decided,
                  result: "held_back",
                  action,
                  heldBack,
                  message: heldNow.map((h) => h.message).join("; "),
                }
              : {
                  ...decided,
                  heldBack,
                  result: result.outcome === "dry_run" ? "no_op" : result.outcome,
                  action,
                  message: "nothing moved",
                },
          pending,
        );
      }
      const operation =
        commit === undefined
          ? undefined
          : (await readBranchHistory(ctx.repo, branch, 5)).commits.find((c) => c.sha === commit.sha)
              ?.operation;
      const outcome: AlertOutcome = {
        ...decided,
        heldBack,
        result: result.outcome === "dry_run" ? "no_op" : result.outcome,
        action,
        services: moved,
        commit,
        operation,
        message: `${action} of ${moved.join(", ")} (node ${placement})${commit === undefined ? "" : `: commit ${commit.sha.slice(0, 12)}`}`,
      };
      this.#remember(key, {
        outcome,
        acted: outcome,
        done: new Set([...done, ...moved]),
        pending,
        holds: holdsOf(heldBack),
      });
      this.#options.notice?.({ type: "automatic_started", outcome });
      if (heldBack.length > 0 && holdsOf(heldBack) !== remembered?.holds) {
        this.#options.notice?.({ type: "automatic_held_back", outcome });
      }
      return outcome;
    } catch (error) {
      if (!(error instanceof FailoverError)) throw error;
      // Not remembered: Alertmanager retries (503), and the retry decides again.
      const outcome: AlertOutcome = {
        ...decided,
        result: "failed",
        action,
        services: gated.services,
        code: error.code,
        message: error.message,
      };
      this.#options.notice?.({ type: "automatic_failed", outcome });
      return outcome;
    }
  }

  /** The answer of an alert Git says was handled (its key in a commit's requester trailer). */
  #handledAlready(
    withNode: Omit<AlertOutcome, "result" | "message">,
    done: FailoverCommit,
  ): AlertOutcome {
    return {
      ...withNode,
      result: "applied",
      action: (done.moves[0]?.action as Action | undefined) ?? undefined,
      services: done.moves.map((m) => m.service),
      commit: { sha: done.sha, url: done.url },
      operation: done.operation,
      duplicate: false,
      message: `this alert was handled already: commit ${done.sha.slice(0, 12)}`,
    };
  }

  /**
   * An evaluation that moved nothing. When this alert moved services before, the answer is
   * that earlier one (a duplicate) with what still holds the others back; else `otherwise`.
   * Remembered either way: a re-send is a duplicate only once nothing is held back any more.
   * A hold-back is notified when the holds differ from the ones last reported for the alert.
   */
  #unmoved(input: {
    readonly key: string;
    readonly remembered: Remembered | undefined;
    readonly acted: AlertOutcome | undefined;
    readonly done: ReadonlySet<string>;
    readonly heldBack: readonly HoldBack[];
    readonly pending: boolean;
    readonly otherwise: () => AlertOutcome;
  }): AlertOutcome {
    const { key, remembered, acted, done, heldBack, pending } = input;
    const outcome: AlertOutcome =
      acted === undefined
        ? input.otherwise()
        : {
            ...acted,
            heldBack,
            duplicate: false,
            message:
              heldBack.length === 0
                ? acted.message
                : `${acted.message}; still held back: ${heldBack.map((h) => h.message).join("; ")}`,
          };
    const holds = holdsOf(heldBack);
    this.#remember(key, { outcome, acted, done, pending, holds });
    if (heldBack.length > 0 && holds !== remembered?.holds) {
      this.#options.notice?.({ type: "automatic_held_back", outcome });
    }
    return acted === undefined ? outcome : { ...outcome, duplicate: true };
  }

  /** The guards' decision from one look at Git: the branch's history and the services' states. */
  #decide(input: {
    readonly alert: Alert;
    readonly placement: string;
    readonly specs: readonly ServiceSpec[];
    readonly replayed: boolean;
    readonly history: BranchHistory;
    readonly status: AllStatus;
    readonly now: number;
  }): AutomationDecision {
    const { alert, history, status, now } = input;
    const config = this.#options.ctx.config();
    const statusOf = (service: string) => status.services.find((s) => s.service === service);
    const stateOf = (service: string) => statusOf(service)?.state;
    const last = lastAutomaticMoves(history.commits);
    const endsAt = alert.endsAt === undefined ? Number.NaN : Date.parse(alert.endsAt);
    return decideAutomaticAction({
      alert: {
        status: alert.status,
        node: input.placement,
        startsAt: Date.parse(alert.startsAt),
        endsAt: alert.status === "resolved" && !Number.isNaN(endsAt) ? endsAt : undefined,
      },
      now,
      autoFailoverAfterMs: automationSettings(config).autoFailoverAfterMs,
      otherFailedOverNode: nodeFailedOverAutomatically(history.commits, stateOf, input.placement),
      otherNodeUnknown: automaticFailoverUnknown(history.commits, statusOf, input.placement),
      alertReplayed: input.replayed,
      services: input.specs.map((spec) => {
        const auto = serviceAutomation(config, spec.name);
        const found = status.services.find((s) => s.service === spec.name);
        const move = lastMoveOf(history.commits, spec.name);
        return {
          service: spec.name,
          autoFailover: auto.autoFailover,
          autoFailback: auto.autoFailback,
          autoFailbackAfterMs: auto.autoFailbackAfterMs,
          cooldownMs: auto.cooldownMs,
          locked: found?.locked !== undefined,
          state: found?.state ?? "unknown",
          lastAutomaticAt: last.get(spec.name),
          lastMove:
            move === undefined
              ? undefined
              : {
                  sha: move.sha,
                  trigger: move.trigger,
                  requester: move.requester,
                  node: move.node,
                  action: move.moves.find((m) => m.service === spec.name)?.action ?? "",
                },
        };
      }),
    });
  }

  /**
   * The RPO gate, for automatic promotes: a backup copy older than `max_rpo`, or a backup
   * node that is not Ready, holds the service back; automation never accepts data loss.
   */
  async #rpoGate(decision: AutomationDecision, now: number): Promise<AutomationDecision> {
    const { kube, ctx } = this.#options;
    const config = ctx.config();
    const heldBack = [...decision.heldBack];
    const services: string[] = [];
    for (const name of decision.services) {
      const spec = config.services.get(name);
      if (spec === undefined) continue;
      const maxRpoMs = serviceAutomation(config, name).maxRpoMs;
      if (kube === undefined) {
        // No cluster access: the copy's age is unknown. A service bounded by max_rpo is held
        // back (fail closed); the others go ahead as they would without the gate.
        if (maxRpoMs === undefined) services.push(name);
        else {
          heldBack.push({
            guard: "max_rpo",
            service: name,
            message: `${name}: RPO unknown (no cluster access) and max_rpo is set: no automatic promote`,
          });
        }
        continue;
      }
      const report = await rpoCheck(
        {
          name,
          namespace: spec.namespace,
          backupNodeSelector: backupNodeSelector(spec),
          maxRpoMs,
        },
        { kube, now, automatic: true, acceptDataLoss: false },
      );
      if (report.allowed) services.push(name);
      else {
        heldBack.push({
          guard: report.facts.backupNodeReady === false ? "backup_not_ready" : "max_rpo",
          service: name,
          message: `${name}: ${report.message}`,
        });
      }
    }
    return {
      ...decision,
      action: services.length > 0 ? decision.action : undefined,
      services,
      heldBack,
    };
  }

  #remember(key: string, remembered: Remembered): void {
    this.#answers.delete(key); // re-inserted: the newest are kept
    this.#answers.set(key, remembered);
    if (this.#answers.size > MAX_REMEMBERED) {
      const oldest = this.#answers.keys().next().value;
      if (oldest !== undefined) this.#answers.delete(oldest);
    }
  }

  /**
   * Before any failback (a delivered resolve or its timer): evidence that the node is healthy.
   * Every source this replica has must say so; one that cannot be read holds (fail closed):
   * - no node-down alert for the node is known firing: in this replica's memory (which the
   *   same payload's firing alerts are in, handled first), and, with FAILOVER_ALERTMANAGER_URL,
   *   in Alertmanager's own list (it knows the alerts sent to every replica);
   * - with cluster access, the node's Ready condition is True.
   * Without cluster access and Alertmanager's API nothing can say the node is healthy: a
   * replica does not see the alerts sent to the other one, so it holds (node_health_unknown).
   */
  async #failbackGate(
    decision: AutomationDecision,
    at: { readonly placement: string; readonly node: string; readonly now: number },
  ): Promise<AutomationDecision> {
    const held = await this.#nodeHealth(at);
    if (held === undefined) return decision;
    return { ...decision, action: undefined, services: [], heldBack: [...decision.heldBack, held] };
  }

  async #nodeHealth(at: {
    readonly placement: string;
    readonly node: string;
    readonly now: number;
  }): Promise<HoldBack | undefined> {
    const { placement, node, now } = at;
    const { kube, alertmanager, ctx } = this.#options;
    const config = ctx.config();
    const mapped = nodeNamesFor(config, placement);
    const names = [...new Set([node, ...mapped])];
    const fix = `fail back by hand when it is (POST /api/nodes/${placement}/demote)`;
    let unreadable: string | undefined;
    if (alertmanager !== undefined) {
      try {
        const firing = await this.#askAlertmanager(alertmanager, placement, names);
        // Alertmanager's list is the truth about alerts: one this replica remembers and it
        // does not list resolved, its resolve sent to another replica.
        this.#reconcile(placement, new Set(firing.map((a) => a.fingerprint)));
        const first = firing[0];
        if (first !== undefined) {
          return {
            guard: "node_still_down",
            message: `Alertmanager holds ${first.labels.alertname ?? "a node-down alert"} for node ${node} as firing (${first.status.state}): no automatic failback onto node ${placement} while it is reported down`,
          };
        }
      } catch (error) {
        unreadable = `cannot ask Alertmanager for node ${node}'s alerts (${(error as Error).message})`;
      }
    }
    const known = this.#knownFiring(placement, now);
    if (known !== undefined) {
      return {
        guard: "node_still_down",
        message: `${known.alertname} for node ${known.node} fires (last sent here ${seconds(now - known.seenAt)} ago): no automatic failback onto node ${placement} while it is reported down`,
        retryAt: known.seenAt + FIRING_MEMORY_MS,
      };
    }
    if (unreadable !== undefined) {
      return {
        guard: "node_health_unknown",
        message: `${unreadable}: whether node ${placement} is healthy cannot be told, so no automatic failback; looked at again in ${seconds(HEALTH_RECHECK_MS)}, or ${fix}`,
        retryAt: now + HEALTH_RECHECK_MS,
      };
    }
    if (kube !== undefined) {
      const read = mapped.length > 0 ? mapped : [node];
      for (const name of read) {
        const ready = await nodeReady(kube, name);
        if (ready === true) continue;
        return ready === false
          ? {
              guard: "node_still_down",
              message: `node ${name} (${placement}) is not Ready: no automatic failback onto it; looked at again in ${seconds(HEALTH_RECHECK_MS)}`,
              retryAt: now + HEALTH_RECHECK_MS,
            }
          : {
              guard: "node_health_unknown",
              message: `cannot read node ${name}'s Ready condition from the cluster: whether node ${placement} is healthy cannot be told, so no automatic failback; looked at again in ${seconds(HEALTH_RECHECK_MS)}, or ${fix}`,
              retryAt: now + HEALTH_RECHECK_MS,
            };
      }
    }
    if (kube === undefined && alertmanager === undefined) {
      return {
        guard: "node_health_unknown",
        message: `nothing here can confirm node ${placement} is healthy: no cluster access and no FAILOVER_ALERTMANAGER_URL, and a replica does not see the alerts sent to another one; give failover-api either (docs/automation.md), or ${fix}`,
      };
    }
    return undefined;
  }

  /** Alertmanager's firing node-down alerts for the placement (its node names as labelled). */
  async #askAlertmanager(
    api: AlertmanagerApi,
    placement: string,
    names: readonly string[],
  ): Promise<GettableAlert[]> {
    const config = this.#options.ctx.config();
    const settings = automationSettings(config);
    const labels = [...new Set(["failover_node", settings.nodeLabel])];
    const lists = await Promise.all(
      labels.flatMap((label) => names.map((name) => api.firingAlerts(label, name))),
    );
    const byFingerprint = new Map<string, GettableAlert>();
    for (const a of lists.flat()) {
      const named = a.labels.failover_node ?? a.labels[settings.nodeLabel];
      const nodeDown =
        a.labels.failover_node !== undefined ||
        settings.alertNames.includes(a.labels.alertname ?? "");
      if (nodeDown && named !== undefined && resolveNodeName(config, named) === placement) {
        byFingerprint.set(a.fingerprint, a);
      }
    }
    return [...byFingerprint.values()];
  }

  /**
   * A delivered node-down alert: a firing one is known firing, its resolve forgets it. Only a
   * delivery says what Alertmanager holds; a timer's look is this process's own memory.
   */
  #observe(alert: Alert, now: number): void {
    const config = this.#options.ctx.config();
    const settings = automationSettings(config);
    const node = alert.labels.failover_node ?? alert.labels[settings.nodeLabel];
    const nodeDown =
      alert.labels.failover_node !== undefined ||
      settings.alertNames.includes(alert.labels.alertname ?? "");
    if (!nodeDown || node === undefined || node === "") return;
    const placement = resolveNodeName(config, node);
    const known = this.#firing.get(placement) ?? new Map<string, KnownFiring>();
    const startsAt = Date.parse(alert.startsAt);
    if (alert.status === "firing") {
      known.set(alert.fingerprint, {
        alertname: alert.labels.alertname ?? "unknown",
        node,
        startsAt,
        seenAt: now,
      });
    } else {
      const previous = known.get(alert.fingerprint);
      if (previous !== undefined && previous.startsAt <= startsAt) known.delete(alert.fingerprint);
    }
    if (known.size > 0) this.#firing.set(placement, known);
    else this.#firing.delete(placement);
  }

  /** The newest firing alert this replica knows of for the placement (forgetting stale ones). */
  #knownFiring(placement: string, now: number): KnownFiring | undefined {
    const known = this.#firing.get(placement);
    if (known === undefined) return undefined;
    let newest: KnownFiring | undefined;
    for (const [fingerprint, k] of known) {
      if (now >= k.seenAt + FIRING_MEMORY_MS) known.delete(fingerprint);
      else if (newest === undefined || k.seenAt > newest.seenAt) newest = k;
    }
    return newest;
  }

  #reconcile(placement: string, firing: ReadonlySet<string>): void {
    const known = this.#firing.get(placement);
    if (known === undefined) return;
    for (const fingerprint of known.keys()) if (!firing.has(fingerprint)) known.delete(fingerprint);
  }

  /**
   * Guards that pass with time (auto_failover_after, auto_failback_after) would otherwise
   * wait for Alertmanager's repeat_interval (4h by default): look again when they pass. A
   * resolve is sent once, so for one every hold-back that says when it may pass (cooldown,
   * a node not Ready yet, a health read that failed, a forgotten firing alert) is looked at
   * again then too.
   */
  #scheduleLook(
    groupKey: string,
    alert: Alert,
    placement: string,
    heldBack: readonly HoldBack[],
  ): void {
    const timed = heldBack.filter(
      (h) =>
        h.guard === "auto_failover_after" ||
        h.guard === "auto_failback_after" ||
        alert.status === "resolved",
    );
    const retryAt = Math.min(...timed.map((h) => h.retryAt ?? Number.POSITIVE_INFINITY));
    if (this.#closed || !Number.isFinite(retryAt)) return;
    const config = this.#options.ctx.config();
    const named =
      alert.labels.failover_node ?? alert.labels[automationSettings(config).nodeLabel] ?? "";
    this.#cancel(placement, alert.status);
    const run = async () => {
      this.#timers.delete(placement);
      try {
        const down = await this.#stillDown(named, alert);
        if (down === false) {
          this.#options.logger.info(
            { node: named },
            "held-back alert not acted on: the node is Ready again",
          );
          return;
        }
        // Unconfirmed (no cluster access, or the read failed): the alert is looked at
        // again, and the guard alert_not_resent holds a promote back until Alertmanager
        // sends it again (docs/automation.md). A resolve's failback is judged by the
        // failback gate (the node's health) when it is looked at.
        await this.#enqueue(groupKey, [alert], alert.status === "resolved" || down === undefined);
      } catch (error) {
        this.#options.logger.error(
          { err: error, node: placement },
          "automatic re-evaluation failed",
        );
      }
    };
    const cancel = this.#schedule(run, Math.max(0, retryAt - this.#now()) + 50);
    this.#timers.set(placement, { status: alert.status, fingerprint: alert.fingerprint, cancel });
  }

  /**
   * Before a timer acts on a firing alert it held back: its resolve may have gone to another
   * replica (Alertmanager posts each notification to one of them). With cluster access, the
   * node's Ready condition says: True again (false) is not failed over, anything else (true)
   * is. Without it, or when the read fails, nothing here can tell (undefined): failing closed,
   * only Alertmanager's next delivery of the alert, to any replica, acts.
   */
  async #stillDown(nodeName: string, alert: Alert): Promise<boolean | undefined> {
    const { kube } = this.#options;
    if (alert.status !== "firing") return true;
    if (kube === undefined || nodeName === "") return undefined;
    const ready = await nodeReady(kube, nodeName);
    return ready === undefined ? undefined : !ready;
  }

  /** Cancels the node's pending look at an alert of that status (of that alert, if named). */
  #cancel(node: string, status: string, fingerprint?: string): void {
    const pending = this.#timers.get(node);
    if (pending === undefined || pending.status !== status) return;
    if (fingerprint !== undefined && pending.fingerprint !== fingerprint) return;
    pending.cancel();
    this.#timers.delete(node);
  }
}

/** Firing alerts sort before resolved ones. */
function rank(alert: Alert): number {
  return alert.status === "firing" ? 0 : 1;
}

/** The holds as one comparable text: guard and service of each. */
function holdsOf(heldBack: readonly HoldBack[]): string {
  return heldBack
    .map((h) => `${h.guard}:${h.service ?? ""}`)
    .sort()
    .join(",");
}

/**
 * The node's Ready condition: true, false (False or Unknown), undefined when it cannot be read
 * (or no such node). A list with a field selector, not a GET of the node: the read-only RBAC
 * of deploy/examples/automation/rbac.yaml grants `list` on nodes (the RPO gate's read).
 */
async function nodeReady(kube: KubeReader, name: string): Promise<boolean | undefined> {
  try {
    const list = (await kube.get(
      `/api/v1/nodes?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`,
    )) as {
      items?: { status?: { conditions?: { type?: string; status?: string }[] } }[];
    };
    const [node] = list.items ?? [];
    const ready = node?.status?.conditions?.find((c) => c.type === "Ready");
    return ready === undefined ? undefined : ready.status === "True";
  } catch {
    return undefined;
  }
}
