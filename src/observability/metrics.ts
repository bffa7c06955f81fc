import type { RequestHandler } from "express";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ConfigStatus, ReloadResult } from "../config/config-store.js";
import type { CommandOutcome, Trigger } from "../domain/outcome.js";
import type { Action } from "../domain/service.js";
import { eventOutcome, type FailoverListener } from "../failover/events.js";
import type { GitHubRequestEvent } from "../repo/github/request-events.js";

/** One failover command as the metrics count it (per service it named). */
export interface FailoverObservation {
  readonly service: string;
  readonly action: Action;
  readonly trigger: Trigger;
  readonly outcome: CommandOutcome;
  readonly seconds: number;
}

/**
 * The process's Prometheus metrics, in their own Registry (nothing global is registered, so
 * tests may build several). Labels never carry tokens, URLs or free text: services are
 * the configured names (anything else is `unknown`), outcomes and errors come from closed
 * vocabularies.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly failoverRequests: Counter<"service" | "action" | "trigger" | "outcome">;
  readonly failoverDuration: Histogram<"action" | "outcome">;
  readonly githubRequests: Counter<"method" | "status">;
  readonly githubErrors: Counter<"method" | "status">;
  readonly configReloads: Counter<"result">;
  readonly configLastSuccess: Gauge;
  readonly configValid: Gauge;
  readonly fluxPings: Counter<"result">;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.failoverRequests = new Counter({
      name: "failover_requests_total",
      help: "Failover requests (promote/demote, dry runs included) by outcome or error code",
      labelNames: ["service", "action", "trigger", "outcome"],
      registers,
    });
    this.failoverDuration = new Histogram({
      name: "failover_duration_seconds",
      help: "Time from a failover request to its outcome",
      labelNames: ["action", "outcome"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    });
    this.githubRequests = new Counter({
      name: "github_api_requests_total",
      help: "Requests to the GitHub API (each attempt), by method and HTTP status",
      labelNames: ["method", "status"],
      registers,
    });
    this.githubErrors = new Counter({
      name: "github_api_errors_total",
      help: "GitHub API requests that failed (HTTP status >= 400, or `network`)",
      labelNames: ["method", "status"],
      registers,
    });
    this.configReloads = new Counter({
      name: "config_reload_total",
      help: "Reloads of the services config that found changed content, by result",
      labelNames: ["result"],
      registers,
    });
    this.configLastSuccess = new Gauge({
      name: "config_last_reload_success_timestamp_seconds",
      help: "When the services config now served was loaded (Unix time)",
      registers,
    });
    this.configValid = new Gauge({
      name: "config_valid",
      help: "1 when the services config file is valid, 0 when the last good config is served",
      registers,
    });
    this.fluxPings = new Counter({
      name: "flux_receiver_pings_total",
      help: "Pings of the Flux notification-controller Receiver after a change, by result",
      labelNames: ["result"],
      registers,
    });
    for (const result of ["success", "failure"]) this.configReloads.inc({ result }, 0);
    for (const result of ["success", "failure"]) this.fluxPings.inc({ result }, 0);
  }

  /** `known` tells whether a service name is configured (unknown names share one label). */
  observeFailover(event: FailoverObservation, known: (service: string) => boolean): void {
    const service = known(event.service) ? event.service : "unknown";
    this.failoverRequests.inc({
      service,
      action: event.action,
      trigger: event.trigger,
      outcome: event.outcome,
    });
    this.failoverDuration.observe({ action: event.action, outcome: event.outcome }, event.seconds);
  }

  /**
   * The metrics as a listener of the failover events: each command that ends counts once
   * per service it moved or named (`unknown` for a node-wide failure, which names none).
   */
  failoverListener(known: (service: string) => boolean): FailoverListener {
    return (event) => {
      const outcome = eventOutcome(event);
      if (outcome === undefined) return;
      const services = event.services.map((s) => (typeof s === "string" ? s : s.service));
      for (const service of services.length === 0 ? ["unknown"] : services) {
        this.observeFailover(
          {
            service,
            action: event.action,
            trigger: event.trigger,
            outcome,
            seconds: (event.durationMs ?? 0) / 1000,
          },
          known,
        );
      }
    };
  }

  observeGitHub(event: GitHubRequestEvent): void {
    const labels = { method: event.method, status: event.status };
    this.githubRequests.inc(labels);
    if (event.failed) this.githubErrors.inc(labels);
  }

  /** The initial load counts as the first successful reload. */
  observeConfig(result: ReloadResult, status: ConfigStatus): void {
    this.configReloads.inc({ result });
    this.configValid.set(status.valid ? 1 : 0);
    if (result === "success") {
      this.configLastSuccess.set(Date.parse(status.loadedAt) / 1000);
    }
  }

  observeFluxPing(result: "success" | "failure"): void {
    this.fluxPings.inc({ result });
  }

  /** `GET /metrics` in the Prometheus text format. */
  handler(): RequestHandler {
    return async (_req, res) => {
      res.set("Content-Type", this.registry.contentType);
      res.send(await this.registry.metrics());
    };
  }
}
