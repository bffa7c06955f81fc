import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Guard } from "../domain/automation/guards.js";
import type { WorkloadState } from "../domain/state.js";

/**
 * The closed loop's metrics, registered on the process's registry (Metrics.registry). Labels
 * are configured service names and closed vocabularies only.
 */
export class AutomationMetrics {
  readonly serviceState: Gauge<"service" | "state">;
  readonly confirmation: Histogram<"result">;
  readonly holdBacks: Counter<"guard">;

  /**
   * `readStates` fills the state gauge from one status read of every service. It runs when
   * the gauge is first scraped (that scrape waits for it), not at start: a process nobody
   * scrapes never reads, and a start does not carry the read's allocations (issue 11's idle
   * memory). Commits keep the gauge current afterwards (compose-automation.ts).
   */
  constructor(registry: Registry, readStates?: () => Promise<void>) {
    const registers = [registry];
    let first: Promise<void> | undefined;
    this.serviceState = new Gauge({
      name: "failover_service_state",
      help: "1 for the state each service is in at the branch head (primary, backup, mixed, unknown)",
      labelNames: ["service", "state"],
      registers,
      async collect() {
        if (readStates === undefined) return;
        // A read that failed is tried again at the next scrape.
        first ??= readStates().catch((error: unknown) => {
          first = undefined;
          throw error;
        });
        await first.catch(() => undefined);
      },
    });
    this.confirmation = new Histogram({
      name: "failover_confirmation_seconds",
      help: "Time from a failover request (or its commit) to Flux's word on it, by result",
      labelNames: ["result"],
      buckets: [5, 15, 30, 60, 120, 300, 600, 1200],
      registers,
    });
    this.holdBacks = new Counter({
      name: "failover_guard_holdbacks_total",
      help: "Automatic actions a guard held back, by guard",
      labelNames: ["guard"],
      registers,
    });
  }

  state(service: string, state: WorkloadState): void {
    for (const s of ["primary", "backup", "mixed", "unknown"] as const) {
      this.serviceState.set({ service, state: s }, s === state ? 1 : 0);
    }
  }

  heldBack(guard: Guard): void {
    this.holdBacks.inc({ guard });
  }
}
