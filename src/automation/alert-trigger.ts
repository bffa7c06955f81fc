import type { Logger } from "pino";
import type { KubeReader } from "../cluster/kube-reader.js";
import { backupNodeSelector, rpoCheck } from "../cluster/rpo-check.js";
import {
  automationSettings,
  resolveNodeName,
  serviceAutomation,
} from "../config/automation-config.js";
import {
  alertKeyOf,
  alertRequester,
  lastAutomaticMoves,
  nodeFailedOverAutomatically,
} from "../domain/automation/automatic-history.js";
import {
  type AutomationDecision,
  decideAutomaticAction,
  type HoldBack,
} from "../domain/automation/guards.js";
import { FailoverError } from "../domain/errors.js";
import type { Action, ServiceSpec } from "../domain/service.js";
import type { FailoverContext, Recheck } from "../failover/context.js";
import { executeNodeFailover } from "../failover/execute-failover.js";
import { getAllStatus } from "../failover/status.js";
import type { AllStatus } from "../failover/status-types.js";
import { type BranchHistory, readBranchHistory } from "../operations/failover-commits.js";
import { alertKey } from "./alert-key.js";
import type { Alert, AlertmanagerPayload } from "./alertmanager-payload.js";

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
  /** Cluster access for the RPO gate; absent: RPO unknown, the gate never holds back. */
  readonly kube?: KubeReader | undefined;
}

const MAX_REMEMBERED = 1000;

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
  readonly #answers = new Map<string, AlertOutcome>();
  /** Re-evaluations of alerts held back by a guard that passes with time, by node. */
  readonly #timers = new Map<string, { status: string; timer: NodeJS.Timeout }>();
  #closed = false;

  constructor(options: AlertTriggerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Every alert of the payload, in order. */
  handle(payload: AlertmanagerPayload): Promise<AlertOutcome[]> {
    return this.#enqueue(payload.groupKey, payload.alerts, false);
  }

  /**
   * `replayed`: the alerts are this process's memory of an earlier delivery (a timer), not a
   * delivery, and nothing confirmed they still fire.
   */
  #enqueue(groupKey: string, alerts: readonly Alert[], replayed: boolean): Promise<AlertOutcome[]> {
    const run = this.#queue.then(async () => {
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
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
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
    const remembered = this.#answers.get(key);
    if (remembered !== undefined) return { ...remembered, duplicate: true };
    const placement = resolveNodeName(config, node);
    // A firing alert cancels a pending failback of its node, a resolved one a pending failover.
    this.#cancel(placement, alert.status === "firing" ? "resolved" : "firing");
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
    const done = history.commits.find((c) => alertKeyOf(c.requester) === key);
    if (done !== undefined) {
      const answer: AlertOutcome = {
        ...withNode,
        result: "applied",
        action: (done.moves[0]?.action as Action | undefined) ?? undefined,
        services: done.moves.map((m) => m.service),
        commit: { sha: done.sha, url: done.url },
        operation: done.operation,
        duplicate: true,
        message: `this alert was handled already: commit ${done.sha.slice(0, 12)}`,
      };
      this.#remember(key, { ...answer, duplicate: false });
      return answer;
    }
    const facts = { alert, placement, specs, replayed };
    const now = this.#now();
    const decision = this.#decide({ ...facts, history, status, now });
    const gated = decision.action === "promote" ? await this.#rpoGate(decision, now) : decision;
    const decided = { ...withNode, heldBack: gated.heldBack };
    this.#schedule(groupKey, alert, gated.heldBack);
    if (gated.action === undefined) {
      const optedIn = specs.filter((s) => serviceAutomation(config, s.name).autoFailover);
      const outcome: AlertOutcome =
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
            };
      if (outcome.result === "held_back") {
        this.#options.notice?.({ type: "automatic_held_back", outcome });
      } else {
        this.#remember(key, outcome);
      }
      return outcome;
    }
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
        action: gated.action,
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
      if (moved.length === 0 && heldNow.length > 0) {
        // A guard the head the commit would have landed on holds: nothing was written.
        const outcome: AlertOutcome = {
          ...decided,
          result: "held_back",
          action: gated.action,
          heldBack: [...gated.heldBack, ...heldNow],
          message: heldNow.map((h) => h.message).join("; "),
        };
        this.#options.notice?.({ type: "automatic_held_back", outcome });
        return outcome;
      }
      const operation =
        commit === undefined
          ? undefined
          : (await readBranchHistory(ctx.repo, branch, 5)).commits.find((c) => c.sha === commit.sha)
              ?.operation;
      const outcome: AlertOutcome = {
        ...decided,
        heldBack: [...gated.heldBack, ...heldNow, ...refused],
        result: result.outcome === "dry_run" ? "no_op" : result.outcome,
        action: gated.action,
        services: moved,
        commit,
        operation,
        message:
          moved.length === 0
            ? "nothing moved"
            : `${gated.action} of ${moved.join(", ")} (node ${placement})${commit === undefined ? "" : `: commit ${commit.sha.slice(0, 12)}`}`,
      };
      this.#remember(key, outcome);
      if (moved.length > 0) this.#options.notice?.({ type: "automatic_started", outcome });
      return outcome;
    } catch (error) {
      if (!(error instanceof FailoverError)) throw error;
      const outcome: AlertOutcome = {
        ...decided,
        result: "failed",
        action: gated.action,
        services: gated.services,
        code: error.code,
        message: error.message,
      };
      this.#options.notice?.({ type: "automatic_failed", outcome });
      return outcome;
    }
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
    const stateOf = (service: string) => status.services.find((s) => s.service === service)?.state;
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
      otherFailedOverNode: nodeFailedOverAutomatically(history.commits, stateOf),
      alertReplayed: input.replayed,
      services: input.specs.map((spec) => {
        const auto = serviceAutomation(config, spec.name);
        const found = status.services.find((s) => s.service === spec.name);
        return {
          service: spec.name,
          autoFailover: auto.autoFailover,
          autoFailback: auto.autoFailback,
          autoFailbackAfterMs: auto.autoFailbackAfterMs,
          cooldownMs: auto.cooldownMs,
          locked: found?.locked !== undefined,
          state: found?.state ?? "unknown",
          lastAutomaticAt: last.get(spec.name),
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

  #remember(key: string, outcome: AlertOutcome): void {
    this.#answers.set(key, outcome);
    if (this.#answers.size > MAX_REMEMBERED) {
      const oldest = this.#answers.keys().next().value;
      if (oldest !== undefined) this.#answers.delete(oldest);
    }
  }

  /**
   * Guards that pass with time (auto_failover_after, auto_failback_after) would otherwise
   * wait for Alertmanager's repeat_interval (4h by default): look again when they pass.
   */
  #schedule(groupKey: string, alert: Alert, heldBack: readonly HoldBack[]): void {
    const timed = heldBack.filter(
      (h) => h.guard === "auto_failover_after" || h.guard === "auto_failback_after",
    );
    const retryAt = Math.min(...timed.map((h) => h.retryAt ?? Number.POSITIVE_INFINITY));
    if (this.#closed || !Number.isFinite(retryAt)) return;
    const config = this.#options.ctx.config();
    const named =
      alert.labels.failover_node ?? alert.labels[automationSettings(config).nodeLabel] ?? "";
    const node = resolveNodeName(config, named);
    this.#cancel(node, alert.status);
    const timer = setTimeout(
      () => {
        this.#timers.delete(node);
        this.#stillDown(named, alert)
          .then((down) => {
            if (down === false) {
              this.#options.logger.info(
                { node: named },
                "held-back alert not acted on: the node is Ready again",
              );
              return;
            }
            // Unconfirmed (no cluster access, or the read failed): the alert is looked at
            // again, and the guard alert_not_resent holds a promote back until Alertmanager
            // sends it again (docs/automation.md).
            return this.#enqueue(groupKey, [alert], down === undefined);
          })
          .catch((error: unknown) =>
            this.#options.logger.error({ err: error, node }, "automatic re-evaluation failed"),
          );
      },
      Math.max(0, retryAt - this.#now()) + 50,
    );
    timer.unref();
    this.#timers.set(node, { status: alert.status, timer });
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
    try {
      const node = (await kube.get(`/api/v1/nodes/${encodeURIComponent(nodeName)}`)) as {
        status?: { conditions?: { type?: string; status?: string }[] };
      };
      const ready = node.status?.conditions?.find((c) => c.type === "Ready");
      return ready?.status !== "True";
    } catch {
      return undefined;
    }
  }

  #cancel(node: string, status: string): void {
    const pending = this.#timers.get(node);
    if (pending === undefined || pending.status !== status) return;
    clearTimeout(pending.timer);
    this.#timers.delete(node);
  }
}
