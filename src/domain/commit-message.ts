import type { Trigger } from "./outcome.js";
import type { Action, Side } from "./service.js";
import type { WorkloadState } from "./state.js";

export interface FailoverCommitFacts {
  readonly service: string;
  readonly action: Action;
  readonly from: WorkloadState;
  readonly to: Side;
  readonly trigger: Trigger;
  readonly requester: string;
  /** Human lines for the body, e.g. "nodeSelector role: primary -> backup". */
  readonly changes: readonly string[];
}

const TRAILER = {
  service: "Failover-Service",
  action: "Failover-Action",
  from: "Failover-From",
  to: "Failover-To",
  trigger: "Failover-Trigger",
  requester: "Failover-Requester",
} as const;

/** Git trailers must be one line each; anything else a requester sends is flattened. */
function oneLine(value: string): string {
  const flat = [...value]
    .map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? " " : c))
    .join("")
    .replace(/ +/g, " ")
    .trim();
  return (flat === "" ? "unknown" : flat).slice(0, 200);
}

export function failoverCommitMessage(facts: FailoverCommitFacts): string {
  const headline = `failover(${facts.service}): ${facts.action} to ${facts.to}`;
  return [
    headline,
    "",
    ...facts.changes.map((c) => `- ${oneLine(c)}`),
    "",
    `${TRAILER.service}: ${facts.service}`,
    `${TRAILER.action}: ${facts.action}`,
    `${TRAILER.from}: ${facts.from}`,
    `${TRAILER.to}: ${facts.to}`,
    `${TRAILER.trigger}: ${facts.trigger}`,
    `${TRAILER.requester}: ${oneLine(facts.requester)}`,
    "",
  ].join("\n");
}

export interface ParsedFailoverCommit {
  readonly service: string;
  readonly action: string;
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly trigger: string | undefined;
  readonly requester: string | undefined;
}

/** Reads the trailers back (history); null for commits that are not failovers. */
export function parseFailoverCommit(message: string): ParsedFailoverCommit | null {
  const trailers = new Map<string, string>();
  for (const line of message.split(/\r?\n/)) {
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) trailers.set(m[1], m[2].trim());
  }
  const service = trailers.get(TRAILER.service);
  const action = trailers.get(TRAILER.action);
  if (service === undefined || action === undefined) return null;
  return {
    service,
    action,
    from: trailers.get(TRAILER.from),
    to: trailers.get(TRAILER.to),
    trigger: trailers.get(TRAILER.trigger),
    requester: trailers.get(TRAILER.requester),
  };
}
