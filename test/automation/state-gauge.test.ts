import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { AutomationMetrics } from "../../src/automation/automation-metrics.js";

/** The state gauge is read when first scraped, not at start; that scrape shows the read. */
describe("failover_service_state", () => {
  it("the first scrape waits for one status read; later scrapes do not read again", async () => {
    const registry = new Registry();
    let reads = 0;
    const metrics: AutomationMetrics = new AutomationMetrics(registry, async () => {
      reads++;
      metrics.state("sonarr", "backup");
    });
    expect(reads).toBe(0);
    const first = await registry.metrics();
    expect(first).toContain('failover_service_state{service="sonarr",state="backup"} 1');
    expect(first).toContain('failover_service_state{service="sonarr",state="primary"} 0');
    metrics.state("sonarr", "primary");
    const second = await registry.metrics();
    expect(second).toContain('failover_service_state{service="sonarr",state="primary"} 1');
    expect(reads).toBe(1);
  });

  it("a read that failed is tried again at the next scrape; the scrape itself answers", async () => {
    const registry = new Registry();
    let reads = 0;
    const metrics: AutomationMetrics = new AutomationMetrics(registry, async () => {
      reads++;
      if (reads === 1) throw new Error("GitHub unavailable");
      metrics.state("radarr", "primary");
    });
    expect(await registry.metrics()).not.toContain('service="radarr"');
    expect(await registry.metrics()).toContain(
      'failover_service_state{service="radarr",state="primary"} 1',
    );
    await registry.metrics();
    expect(reads).toBe(2);
  });
});
