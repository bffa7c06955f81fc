import type { CommandResult } from "../failover/run-command.js";
import { httpBody } from "./http-json.js";
import { failoverMessage, lockMessage, nodeMessage } from "./messages.js";

/**
 * What the CLI prints for a command's result: text for people, or (`--json`) the same JSON
 * body the HTTP API answers, so scripts see one shape whatever the transport.
 */
export function cliText(result: CommandResult): string {
  switch (result.kind) {
    case "failover": {
      const r = result.result;
      const warnings = r.plan.warnings.map((w) => `\nwarning: ${w}`).join("");
      const rpo = r.rpo === undefined ? "" : `\nrpo: ${r.rpo.message}`;
      const diff = r.outcome === "no_op" || r.plan.diff === "" ? "" : `\n${r.plan.diff}`;
      return `${failoverMessage(r)}${rpo}${warnings}${diff}`;
    }
    case "node_failover": {
      const r = result.result;
      const lines = r.services.flatMap((s) =>
        "plan" in s
          ? [
              `  ${s.service}: ${s.result} (${s.plan.from} -> ${s.plan.to})`,
              ...(s.rpo === undefined ? [] : [`    rpo: ${s.rpo.message}`]),
              ...s.plan.warnings.map((w) => `    warning: ${w}`),
            ]
          : [`  ${s.service}: ${s.result}: ${s.message}`],
      );
      return [nodeMessage(r), ...lines, r.diff].filter((l) => l !== "").join("\n");
    }
    case "status": {
      const s = result.status;
      return `${s.service}: ${s.state} (node ${s.observed.nodes.join(",")}, claim ${s.observed.claims.join(",")}) in ${s.paths.join(", ")}@${s.head.slice(0, 12)}${s.locked === undefined ? "" : ` (locked by ${s.locked.by})`}`;
    }
    case "all_status":
      return result.status.services
        .map((s) => `${s.service}\t${s.state}${s.reason === undefined ? "" : `\t${s.reason}`}`)
        .join("\n");
    case "list":
      return result.services
        .map(
          (s) =>
            `${s.name}\t${s.namespace}/${s.deployment ?? s.helmrelease}\t${s.primary_pvc} <-> ${s.backup_pvc}`,
        )
        .join("\n");
    case "lock":
      return lockMessage(result.service, result.result);
    case "history":
      return (
        result.items
          .map(
            (h) =>
              `${h.date}\t${h.action}\t${h.from ?? "?"} -> ${h.to ?? "?"}\t${h.requester ?? "?"}\t${h.trigger ?? "?"}\t${h.sha.slice(0, 12)}`,
          )
          .join("\n") || `no failovers of ${result.service} in its manifests' history`
      );
    case "help":
      return result.problem ?? "";
  }
}

/** `--json`: the HTTP API's body for the same result. */
export const cliJson = httpBody;
