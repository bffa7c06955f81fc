import { USAGE } from "../domain/command.js";
import { FailoverError } from "../domain/errors.js";
import type { ExecutedFailover } from "../failover/execute-failover.js";
import type { ServiceSummary } from "../failover/list.js";
import type { ServiceStatus } from "../failover/status.js";
import { renderFailoverResult } from "../http/render-result.js";

/** Marks the app's own comments (and keeps them recognisable in a thread). */
export const REPLY_MARKER = "<!-- failover-api -->";

function fence(text: string, lang = ""): string {
  // A diff never holds three backticks in a manifest we could patch, but be sure.
  return `\`\`\`${lang}\n${text.replace(/```/g, "ʼʼʼ").trimEnd()}\n\`\`\``;
}

function warningsOf(warnings: readonly string[]): string {
  return warnings.length === 0 ? "" : `\n\n${warnings.map((w) => `> ⚠️ ${w}`).join("\n>\n")}`;
}

export function failoverReply(executed: ExecutedFailover, requester: string): string {
  const { result } = executed;
  const body = renderFailoverResult(result);
  const icon = {
    dry_run: "🔍",
    no_op: "👌",
    applied: "🚀",
    pr_opened: "📝",
    pr_armed: "⏳",
    pr_merged: "🚀",
  }[result.outcome];
  let link = "";
  if (result.outcome === "applied" && result.commit.url !== undefined) {
    link = ` — [${result.commit.sha.slice(0, 7)}](${result.commit.url})`;
  } else if ("pr" in result) {
    link = ` — ${result.pr.url}`;
  }
  const diff =
    result.plan.diff === ""
      ? ""
      : `\n\n<details${result.outcome === "dry_run" ? " open" : ""}><summary>Diff of <code>${result.plan.path}</code></summary>\n\n${fence(result.plan.diff, "diff")}\n\n</details>`;
  const audit =
    executed.audit?.url === undefined
      ? ""
      : `\n\nRecorded as deployment ${String(executed.audit.id)}.`;
  return `${REPLY_MARKER}\n${icon} @${requester}: ${String(body.message)}${link}${warningsOf(result.plan.warnings)}${diff}${audit}`;
}

export function statusReply(status: ServiceStatus): string {
  const node = status.observed.nodeSelector ?? status.observed.nodeAffinity.join(", ");
  return `${REPLY_MARKER}\n**${status.service}** is on **${status.state}**: node \`${node}\`, claim \`${status.observed.claim}\` (\`${status.path}\` at ${status.head.slice(0, 7)})${warningsOf(status.warnings)}`;
}

export function listReply(services: readonly ServiceSummary[]): string {
  if (services.length === 0) return `${REPLY_MARKER}\nNo services are configured.`;
  const rows = services.map(
    (s) =>
      `| \`${s.name}\` | ${s.namespace}/${s.deployment} | \`${s.primary_pvc}\` ↔ \`${s.backup_pvc}\` | ${s.primary_node_label} ↔ ${s.backup_node_label} |`,
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
      internal: "",
    }[error.code];
    return `${REPLY_MARKER}\n😕 @${login}: ${error.code}: ${error.message}${hint === "" ? "" : `\n\n${hint}`}`;
  }
  return `${REPLY_MARKER}\n😕 @${login}: the command failed with an internal error; see the app's logs. Nothing is known to have changed.`;
}
