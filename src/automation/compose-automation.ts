import type { Router } from "express";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { inClusterReader, type KubeReader } from "../cluster/kube-reader.js";
import type { Env } from "../config/env.js";
import type { FailoverContext } from "../failover/context.js";
import type { FailoverListener } from "../failover/events.js";
import { getAllStatus } from "../failover/status.js";
import { FluxConfirmation } from "../flux/confirmation.js";
import { kustomizationLookup } from "../flux/kustomization-lookup.js";
import { fluxStatusHandler } from "../flux/status-webhook.js";
import type { ApiAuth } from "../http/auth.js";
import { eventMessage, noticeMessage, phaseMessage } from "../notify/failover-messages.js";
import { Notifier } from "../notify/notifier.js";
import {
  DEFAULT_ENDPOINTS,
  type NotifyEndpoints,
  parseNotifyUrls,
} from "../notify/notify-target.js";
import type { Operation, Phase } from "../operations/operation.js";
import { OperationStore } from "../operations/operation-store.js";
import { AlertTrigger } from "./alert-trigger.js";
import { type AlertmanagerApi, alertmanagerApi } from "./alertmanager-api.js";
import { AutomationMetrics } from "./automation-metrics.js";
import { earlyRoutes, operationRoutes } from "./automation-router.js";
import type { Scheduler } from "./scheduler.js";

export interface Automation {
  /** Mount at /api before the body limit: `app.use("/api", automation.early(ops?.auth))`. */
  early(auth: ApiAuth | undefined): Router;
  /** Mount at /api after auth: GET /operations/:id. */
  readonly router: Router;
  /** Register with the pipeline: each is told every FailoverEvent. */
  readonly listeners: readonly FailoverListener[];
  /** Probot: `app.on("status", automation.statusHandler)` (Flux's github Provider). */
  readonly statusHandler: (context: { payload: unknown }) => Promise<void>;
  /**
   * Rebuilds the operations from Git and reads the services' states for the gauge: `serve`
   * calls it (a one-shot CLI command or a test that does not serve reads nothing extra).
   */
  start(): void;
  readonly store: OperationStore;
  readonly trigger: AlertTrigger;
  readonly confirmation: FluxConfirmation;
  readonly notifier: Notifier;
  close(): Promise<void>;
}

export interface AutomationOptions {
  /** The process's metrics registry (Metrics.registry); absent: no automation metrics. */
  readonly registry?: Registry | undefined;
  readonly now?: () => number;
  /** Where discord:// and slack:// post (tests point them at a local sink). */
  readonly endpoints?: NotifyEndpoints;
  /** Cluster access for the RPO gate: default the in-cluster service account, if mounted. */
  readonly kube?: KubeReader | undefined;
  /** Alertmanager's API for failbacks: default FAILOVER_ALERTMANAGER_URL's, if set. */
  readonly alertmanager?: AlertmanagerApi | undefined;
  /** The re-examination timers' clock (tests drive their own); default real timers. */
  readonly schedule?: Scheduler | undefined;
  /**
   * Told of every phase an operation reaches, after the loop's own hooks: the Deployment's
   * status and the ChatOps reply follow Flux's confirmation (compose.ts). Must not throw.
   */
  readonly onPhase?: ((operation: Operation, phase: Phase) => void) | undefined;
}

/**
 * The closed loop, wired in one place: the Alertmanager trigger, the operation store, Flux
 * confirmation and notifications. Throws `config_invalid` for a bad FAILOVER_NOTIFY.
 */
export function composeAutomation(
  ctx: FailoverContext,
  env: Env,
  logger: Logger,
  options: AutomationOptions = {},
): Automation {
  const log = logger.child({ component: "automation" });
  const metrics =
    options.registry === undefined
      ? undefined
      : new AutomationMetrics(options.registry, () => refreshStates());
  const notifier = new Notifier({
    targets: parseNotifyUrls(env.FAILOVER_NOTIFY, options.endpoints ?? DEFAULT_ENDPOINTS),
    timeoutMs: env.FAILOVER_NOTIFY_TIMEOUT_MS,
    logger: log,
  });
  // Reads started in the background, awaited by close() (they may still be reading Git).
  const background = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const settled: Promise<unknown> = p
      .catch(() => undefined)
      .finally(() => background.delete(settled));
    background.add(settled);
  };
  /**
   * One status read of every service into the state gauge. Called by the gauge at its first
   * scrape (AutomationMetrics keeps that one read and retries it only after a failure).
   */
  const refreshStates = (): Promise<void> => {
    if (metrics === undefined) return Promise.resolve();
    const read = getAllStatus(ctx)
      .then((all) => {
        for (const s of all.services) metrics.state(s.service, s.state);
      })
      .catch((error: unknown) => {
        log.warn({ err: error }, "cannot read the services' states");
        throw error;
      });
    track(read);
    return read;
  };
  const store = new OperationStore({
    repo: ctx.repo,
    branch: ctx.branch,
    confirmTimeoutMs: env.FLUX_CONFIRM_TIMEOUT_MS,
    ...(options.now === undefined ? {} : { now: options.now }),
    onPhase: (op, phase) => {
      const message = phaseMessage(op, phase);
      if (message !== undefined) notifier.send(message);
      if (
        metrics !== undefined &&
        (phase === "confirmed" || phase === "failed" || phase === "unconfirmed")
      ) {
        const started = Date.parse(op.phases[0]?.at ?? "");
        const ended = Date.parse(op.phases.at(-1)?.at ?? "");
        if (!Number.isNaN(started) && !Number.isNaN(ended)) {
          metrics.confirmation.observe({ result: phase }, Math.max(0, (ended - started) / 1000));
        }
      }
      if (phase === "committed" && metrics !== undefined && op.action !== undefined) {
        // The commit says where its services are now: no read (a failover costs 2 calls).
        // The Kustomizations that confirm it are looked up when Flux's word arrives.
        const side = op.action === "promote" ? "backup" : "primary";
        for (const service of op.services) metrics.state(service, side);
      }
      log.info({ operation: op.id, phase, services: op.services }, "operation phase");
      options.onPhase?.(op, phase);
    },
  });
  const confirmation = new FluxConfirmation({ store, kustomizationsFor: kustomizationLookup(ctx) });
  const kube = "kube" in options ? options.kube : inClusterReader();
  const alertmanager =
    "alertmanager" in options
      ? options.alertmanager
      : env.FAILOVER_ALERTMANAGER_URL === undefined
        ? undefined
        : alertmanagerApi({ url: env.FAILOVER_ALERTMANAGER_URL });
  const trigger = new AlertTrigger({
    ctx,
    kube,
    alertmanager,
    schedule: options.schedule,
    logger: log,
    ...(options.now === undefined ? {} : { now: options.now }),
    notice: (notice) => {
      notifier.send(noticeMessage(notice));
      if (metrics !== undefined) for (const h of notice.outcome.heldBack) metrics.heldBack(h.guard);
      log.info(
        { type: notice.type, node: notice.outcome.node, services: notice.outcome.services },
        "automation",
      );
    },
  });
  const deps = { trigger, confirmation, store, fluxSecret: env.FLUX_EVENTS_SECRET, logger: log };
  const notify: FailoverListener = (event) => {
    const message = eventMessage(event);
    if (message !== undefined) notifier.send(message);
  };
  return {
    start: () => {
      // Operations committed before this process started (or by another replica).
      track(
        store
          .refresh()
          .catch((error: unknown) =>
            log.warn({ err: error }, "cannot rebuild operations from Git"),
          ),
      );
    },
    early: (auth) => earlyRoutes(deps, auth),
    router: operationRoutes(deps),
    listeners: [store.listener, notify],
    statusHandler: fluxStatusHandler(confirmation),
    store,
    trigger,
    confirmation,
    notifier,
    close: async () => {
      await trigger.close();
      store.close();
      await Promise.all([notifier.flush(), ...background]);
    },
  };
}
