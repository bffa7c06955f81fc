import { durationMs } from "./duration.js";
import type { ServicesConfig } from "./services-config.js";

/** The defaults docs/automation.md documents. */
export const AUTOMATION_DEFAULTS = {
  alertNames: ["KubeNodeNotReady", "KubeNodeUnreachable"],
  nodeLabel: "node",
  autoFailoverAfterMs: 2 * 60_000,
  cooldownMs: 30 * 60_000,
  autoFailbackAfterMs: 10 * 60_000,
} as const;

export interface AutomationSettings {
  readonly alertNames: readonly string[];
  readonly nodeLabel: string;
  readonly autoFailoverAfterMs: number;
  readonly cooldownMs: number;
  readonly autoFailbackAfterMs: number;
}

export interface ServiceAutomation {
  readonly autoFailover: boolean;
  readonly autoFailback: boolean;
  readonly autoFailbackAfterMs: number;
  readonly cooldownMs: number;
  /** Absent: no RPO gate for this service. */
  readonly maxRpoMs: number | undefined;
}

/** The `automation:` block of services.yaml with its defaults filled in. */
export function automationSettings(config: ServicesConfig): AutomationSettings {
  const a = config.raw.automation;
  return {
    alertNames: a?.alert_names ?? AUTOMATION_DEFAULTS.alertNames,
    nodeLabel: a?.node_label ?? AUTOMATION_DEFAULTS.nodeLabel,
    autoFailoverAfterMs: msOr(a?.auto_failover_after, AUTOMATION_DEFAULTS.autoFailoverAfterMs),
    cooldownMs: msOr(a?.cooldown, AUTOMATION_DEFAULTS.cooldownMs),
    autoFailbackAfterMs: msOr(a?.auto_failback_after, AUTOMATION_DEFAULTS.autoFailbackAfterMs),
  };
}

/** A service's automation settings; automatic failover and failback are off unless opted in. */
export function serviceAutomation(config: ServicesConfig, service: string): ServiceAutomation {
  const s = config.raw.services[service];
  const defaults = automationSettings(config);
  return {
    autoFailover: s?.auto_failover ?? false,
    autoFailback: s?.auto_failback ?? false,
    autoFailbackAfterMs: msOr(s?.auto_failback_after, defaults.autoFailbackAfterMs),
    cooldownMs: msOr(s?.cooldown, defaults.cooldownMs),
    maxRpoMs: s?.max_rpo === undefined ? undefined : durationMs(s.max_rpo),
  };
}

/**
 * A node as a request or an alert names it -> the placement label value services.yaml uses:
 * through the `nodes:` map (`k3s-w1: primary`) when the name is in it, else unchanged, so
 * `/api/nodes/primary/...` and `/api/nodes/k3s-w1/...` both work.
 */
export function resolveNodeName(config: ServicesConfig, name: string): string {
  const nodes = config.raw.nodes;
  return nodes !== undefined && Object.hasOwn(nodes, name) ? (nodes[name] ?? name) : name;
}

/** The node names mapped to a placement label value (for messages), e.g. primary -> [k3s-w1]. */
export function nodeNamesFor(config: ServicesConfig, value: string): string[] {
  return Object.entries(config.raw.nodes ?? {})
    .filter(([, v]) => v === value)
    .map(([k]) => k);
}

function msOr(text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : durationMs(text);
}
