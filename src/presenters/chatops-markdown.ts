import { USAGE } from "../domain/command.js";
import { FailoverError } from "../domain/errors.js";
import type { Outcome } from "../domain/outcome.js";
import type { FailoverResult } from "../failover/failover.js";
import type { HistoryItem } from "../failover/history.js";
import type { ServiceSummary } from "../failover/list.js";
import type { LockResult } from "../failover/locks.js";
import type { NodeFailoverResult } from "../failover/node-failover.js";
import type { CommandResult } from "../failover/run-command.js";
import type { ServiceStatus } from "../failover/status-types.js";
import type { Operation } from "../operations/operation.js";
import { failoverMessage, lockMessage, nodeMessage } from "./messages.js";

/** Marks the app's own comments (and keeps them recognisable in a thread). */
export const REPLY_MARKER = "<!-- failover-api -->";

function fence(text: string, lang = ""): string {
  // A diff never holds three backticks in a manifest we could patch, but be sure.
  return `\`\`\`${lang}\n${text.replace(/```/g, "ʼʼʼ").trimEnd()}\n\`\`\``;
}

function warningsOf(warnings: readonly string[]): string {
  return warnings.length === 0 ? "" : `\n\n${warnings.map((w) => `> ⚠️ ${w}`).join("\n>\n")}`;
}

const ICONS = {
  dry_run: "🔍",
  no_op: "👌",
  applied: "🚀",
  pr_opened: "📝",
  pr_armed: "⏳",
  pr_merged: "🚀",
} as const satisfies Record<Outcome, string>;

/**
 * The reply to a failover, written as soon as the commit or PR is known; the Deployment
 * that records it is written after (a listener), so the reply links the commit, not it.
 */
export function failoverReply(result: FailoverResult, requester: string): string {
  const icon = ICONS[result.outcome];
  let link = "";
  if (result.outcome === "applied" && result.commit.url !== undefined) {
    link = ` — [${result.commit.sha.slice(0, 7)}](${result.commit.url})`;
  } else if ("pr" in result) {
    link = ` — ${result.pr.url}`;
  }
  const diff =
    result.plan.diff === ""
      ? ""
      : `\n\n<details${result.outcome === "dry_run" ? " open" : ""}><summary>Diff of ${result.plan.files.map((f) => `<code>${f.path}</code>`).join(", ")}</summary>\n\n${fence(result.plan.diff, "diff")}\n\n</details>`;
  return `${REPLY_MARKER}\n${icon} @${requester}: ${failoverMessage(result)}${link}${warningsOf(result.plan.warnings)}${diff}`;
}

export function statusReply(status: ServiceStatus): string {
  const node = status.observed.nodes.join(", ");
  const claim = status.observed.claims.join(", ");
  const files = status.paths.map((p) => `\`${p}\``).join(", ");
  return `${REPLY_MARKER}\n**${status.service}** is on **${status.state}**: node \`${node}\`, claim \`${claim}\` (${files} at ${status.head.slice(0, 7)})${warningsOf(status.warnings)}`;
}

export function listReply(services: readonly ServiceSummary[]): string {
  if (services.length === 0) return `${REPLY_MARKER}\nNo services are configured.`;
  const rows = services.map(
    (s) =>
      `| \`${s.name}\` | ${s.namespace}/${s.deployment ?? `HelmRelease ${s.helmrelease ?? "?"}`} | \`${s.primary_pvc}\` ↔ \`${s.backup_pvc}\` | ${s.primary_node_label} ↔ ${s.backup_node_label} |`,
  );
  return `${REPLY_MARKER}\n| service | workload | claims | nodes |\n| --- | --- | --- | --- |\n${rows.join("\n")}\n\nAsk \`/failover <service> status\` for where one runs now.`;
}

export function usageReply(problem: string | undefined): string {
  return `${REPLY_MARKER}\n${problem === undefined ? "" : `😕 ${problem}\n\n`}${USAGE}`;
}

export function deniedReply(
  login: string,
  role: string,
  allowed: readonly string[],
  repo: string,
): string {
  return `${REPLY_MARKER}\n🔒 @${login}: failover commands need ${allowed.join(" or ")} permission on ${repo}; you have \`${role}\`. Nothing was changed.`;
}

export function errorReply(login: string, error: unknown): string {
  if (error instanceof FailoverError) {
    const hint = {
      not_found: "Check the service name with `/failover list`.",
      refused: "Nothing was changed.",
      conflict: "Nothing was changed; running the command again is safe.",
      locked: "Nothing was changed.",
      invalid_input: "",
      method_not_allowed: "",
      unauthorized: "",
      forbidden: "",
      config_invalid: "The app's configuration needs fixing.",
      upstream: "GitHub or Git failed; running the command again is safe.",
      timeout:
        "It may have landed all the same: `/failover status` will tell; running the command again is safe.",
      internal: "",
    }[error.code] satisfies string;
    return `${REPLY_MARKER}\n😕 @${login}: ${error.code}: ${error.message}${hint === "" ? "" : `\n\n${hint}`}`;
  }
  return `${REPLY_MARKER}\n😕 @${login}: the command failed with an internal error; see the app's logs. Nothing is known to have changed.`;
}

export function nodeReply(result: NodeFailoverResult, requester: string): string {
  const rows = result.services.map((s) =>
    "plan" in s
      ? `| \`${s.service}\` | ${s.result === "changed" ? `${s.plan.from} → ${s.plan.to}` : `already ${s.plan.to}`} |`
      : `| \`${s.service}\` | ${s.result}: ${s.message.replace(/\|/g, "\\|").slice(0, 300)} |`,
  );
  let link = "";
  if (result.outcome === "applied" && result.commit.url !== undefined)
    link = ` — [${result.commit.sha.slice(0, 7)}](${result.commit.url})`;
  else if ("pr" in result) link = ` — ${result.pr.url}`;
  const diff =
    result.diff === ""
      ? ""
      : `\n\n<details${result.outcome === "dry_run" ? " open" : ""}><summary>Diff</summary>\n\n${fence(result.diff, "diff")}\n\n</details>`;
  return `${REPLY_MARKER}\n${result.outcome === "dry_run" ? "🔍" : "🚀"} @${requester}: ${nodeMessage(result)}${link}\n\n| service | result |\n| --- | --- |\n${rows.join("\n")}${diff}`;
}

export function lockReply(service: string, result: LockResult, requester: string): string {
  return `${REPLY_MARKER}\n${result.outcome === "locked" ? "🔒" : "🔓"} @${requester}: ${lockMessage(service, result)}`;
}

export function historyReply(service: string, items: readonly HistoryItem[]): string {
  if (items.length === 0)
    return `${REPLY_MARKER}\nNo failovers of **${service}** in the history of its manifests.`;
  const rows = items.map(
    (i) =>
      `| ${i.date} | ${i.action} | ${i.from ?? "?"} → ${i.to ?? "?"} | ${i.requester ?? "?"} | ${i.trigger ?? "?"}${i.node === undefined ? "" : ` (node ${i.node})`} | ${i.url === undefined ? i.sha.slice(0, 7) : `[${i.sha.slice(0, 7)}](${i.url})`} |`,
  );
  return `${REPLY_MARKER}\nFailovers of **${service}**, newest first:\n\n| when | action | move | who | through | commit |\n| --- | --- | --- | --- | --- | --- |\n${rows.join("\n")}`;
}

/** The reply to any command's result, as a comment by the app. */
export function chatopsReply(result: CommandResult, requester: string): string {
  switch (result.kind) {
    case "failover":
      return failoverReply(result.result, requester);
    case "node_failover":
      return nodeReply(result.result, requester);
    case "status":
      return statusReply(result.status);
    case "all_status":
      return `${REPLY_MARKER}\n${result.status.services.map((s) => `- **${s.service}**: ${s.state}`).join("\n")}`;
    case "list":
      return listReply(result.services);
    case "lock":
      return lockReply(result.service, result.result, requester);
    case "history":
      return historyReply(result.service, result.items);
    case "help":
      return usageReply(result.problem);
  }
}

/** "2 min 10 s", "45 s", "1 h 3 min": a recovery time for people. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 === 0 ? "" : ` ${s % 60} s`}`;
  const m = Math.floor((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${m === 0 ? "" : ` ${m} min`}`;
}

/**
 * The line a ChatOps reply gets when Flux has spoken: applied (with the measured time from
 * the request to Flux applied, the RTO), failed, or no word within the timeout.
 */
export function confirmationLine(
  operation: Operation,
  result: "confirmed" | "failed" | "unconfirmed",
): string {
  const sha = operation.commit?.sha.slice(0, 7) ?? "the commit";
  const end = operation.phases.at(-1);
  const started = Date.parse(operation.phases[0]?.at ?? "");
  const ended = Date.parse(end?.at ?? "");
  const elapsed =
    Number.isNaN(started) || Number.isNaN(ended) ? undefined : (ended - started) / 1000;
  const after = elapsed === undefined ? "" : `, ${humanDuration(elapsed)} after the request`;
  const at = end?.at ?? "";
  switch (result) {
    case "confirmed": {
      const rto = operation.rtoSeconds ?? elapsed;
      const by =
        operation.flux === undefined ? "" : ` (Kustomization ${operation.flux.kustomization})`;
      return `✅ Flux applied ${sha}${by} at ${at}${rto === undefined ? "" : `, ${humanDuration(rto)} after the request`}`;
    }
    case "failed":
      return `❌ Flux failed to apply ${sha} at ${at}${after}: ${(operation.flux?.message ?? end?.detail ?? "").replace(/\s+/g, " ").slice(0, 300)}`;
    case "unconfirmed":
      return `⚠️ Flux did not report applying ${sha}${after}: ${end?.detail ?? "no word in time"}`;
  }
}
