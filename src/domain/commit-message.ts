import type { Trigger } from "./outcome.js";
import type { Action, Side } from "./service.js";
import type { WorkloadState } from "./state.js";

export interface ServiceMove {
  readonly service: string;
  readonly action: Action;
  readonly from: WorkloadState;
  readonly to: Side;
}

export interface FailoverCommitFacts {
  readonly headline: string;
  /** One per service moved by this commit (node-wide failovers move several). */
  readonly services: readonly ServiceMove[];
  readonly trigger: Trigger;
  readonly requester: string;
  /** Human lines for the body, e.g. "deployment.yaml spec...nodeSelector.role: primary -> backup". */
  readonly changes: readonly string[];
  readonly node?: string;
  /**
   * Unique per request. Two identical requests (two replicas, one requester) would otherwise
   * write identical commits, and one could take the other's commit for its own lost answer.
   */
  readonly requestId?: string;
}

/** The trailer keys of a failover commit (history finds a service's commits by them). */
export const TRAILER_KEYS = {
  service: "Failover-Service",
  action: "Failover-Action",
  from: "Failover-From",
  to: "Failover-To",
  node: "Failover-Node",
  trigger: "Failover-Trigger",
  requester: "Failover-Requester",
  request: "Failover-Request",
} as const;
const TRAILER = TRAILER_KEYS;

/** Git trailers must be one line each; anything else a requester sends is flattened. */
function oneLine(value: string): string {
  const flat = [...value]
    .map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? " " : c))
    .join("")
    .replace(/ +/g, " ")
    .trim();
  return (flat === "" ? "unknown" : flat).slice(0, 200);
}

/**
 * A readable headline and body, then machine-readable trailers. One service: one block of
 * Service/Action/From/To. Several: the block repeats per service, in order.
 */
export function failoverCommitMessage(facts: FailoverCommitFacts): string {
  const moves = facts.services.flatMap((m) => [
    `${TRAILER.service}: ${m.service}`,
    `${TRAILER.action}: ${m.action}`,
    `${TRAILER.from}: ${m.from}`,
    `${TRAILER.to}: ${m.to}`,
  ]);
  return [
    oneLine(facts.headline),
    "",
    ...facts.changes.map((c) => `- ${oneLine(c)}`),
    "",
    ...moves,
    ...(facts.node === undefined ? [] : [`${TRAILER.node}: ${oneLine(facts.node)}`]),
    `${TRAILER.trigger}: ${facts.trigger}`,
    `${TRAILER.requester}: ${oneLine(facts.requester)}`,
    ...(facts.requestId === undefined ? [] : [`${TRAILER.request}: ${oneLine(facts.requestId)}`]),
    "",
  ].join("\n");
}

export interface ParsedFailoverCommit {
  readonly moves: readonly {
    readonly service: string;
    readonly action: string;
    readonly from: string | undefined;
    readonly to: string | undefined;
  }[];
  readonly node: string | undefined;
  readonly trigger: string | undefined;
  readonly requester: string | undefined;
}

/** Reads the trailers back (history); null for commits that are not failovers. */
export function parseFailoverCommit(message: string): ParsedFailoverCommit | null {
  const moves: {
    service: string;
    action: string;
    from: string | undefined;
    to: string | undefined;
  }[] = [];
  const single = new Map<string, string>();
  for (const line of message.split(/\r?\n/)) {
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    const key = m?.[1];
    const value = m?.[2]?.trim();
    if (key === undefined || value === undefined) continue;
    const current = moves.at(-1);
    if (key === TRAILER.service)
      moves.push({ service: value, action: "", from: undefined, to: undefined });
    else if (current !== undefined && key === TRAILER.action) current.action = value;
    else if (current !== undefined && key === TRAILER.from) current.from = value;
    else if (current !== undefined && key === TRAILER.to) current.to = value;
    else single.set(key, value);
  }
  const complete = moves.filter((m) => m.action !== "");
  if (complete.length === 0) return null;
  return {
    moves: complete,
    node: single.get(TRAILER.node),
    trigger: single.get(TRAILER.trigger),
    requester: single.get(TRAILER.requester),
  };
}
