import type { AuditSettlement, AuditTrail } from "../failover/audit-trail.js";
import type { Operation, Phase } from "../operations/operation.js";

/** The phases that end an operation's Deployment, and what they are called there. */
const SETTLING = new Set<Phase>(["confirmed", "failed", "unconfirmed"]);

/**
 * The Deployment follows Flux (issue 12): `in_progress` at commit (the audit listener),
 * then `success` when the operation is confirmed, `failure` when Flux reported an error,
 * `error` when no word came in time. Returns the operation store's phase hook; the write
 * runs in `run` (the background queue, drained on SIGTERM), never in the caller.
 */
export function deploymentStatusOnPhase(
  trail: AuditTrail,
  run: (what: string, task: () => Promise<unknown>) => void,
): (operation: Operation, phase: Phase) => void {
  const { settle } = trail;
  if (settle === undefined) return () => undefined;
  return (operation, phase) => {
    if (!SETTLING.has(phase) || operation.commit === undefined) return;
    const settlement = settlementOf(operation, phase as AuditSettlement["result"]);
    run(`deployment status ${phase}`, () => settle.call(trail, operation.id, settlement));
  };
}

function settlementOf(operation: Operation, result: AuditSettlement["result"]): AuditSettlement {
  const sha = operation.commit?.sha.slice(0, 7) ?? "?";
  const detail = operation.phases.at(-1)?.detail ?? "";
  const flux = operation.flux;
  switch (result) {
    case "confirmed":
      return {
        result,
        description: `Flux applied ${sha}${flux === undefined ? "" : ` (Kustomization ${flux.kustomization})`}`,
        url: operation.commit?.url,
      };
    case "failed":
      return { result, description: `Flux failed on ${sha}: ${flux?.message ?? detail}` };
    case "unconfirmed":
      return { result, description: `${sha} unconfirmed: ${detail}` };
  }
}
