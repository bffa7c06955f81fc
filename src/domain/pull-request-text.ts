import type { Trigger } from "./outcome.js";
import type { FailoverPlan } from "./plan.js";

/** The fixed branch of a failover PR (`failover/sonarr`, `failover/node-k3s-w1`): reused. */
export function failoverBranch(key: string): string {
  return `failover/${key}`;
}

export function pullRequestTitle(plan: FailoverPlan): string {
  return `failover(${plan.service}): ${plan.action} to ${plan.to}`;
}

/** The PR body: the same facts as the commit trailers, plus the diff. */
export function pullRequestBody(
  plans: readonly FailoverPlan[],
  request: { trigger: Trigger; requester: string },
): string {
  const moves = plans.map(
    (p) =>
      `| \`${p.service}\` | \`${p.action}\` | \`${p.from}\` | \`${p.to}\` | ${p.paths.map((f) => `\`${f}\``).join("<br>")} |`,
  );
  const warnings = plans.flatMap((p) => p.warnings);
  const diff = plans.map((p) => p.diff).join("");
  const headline =
    plans.length === 1 && plans[0] !== undefined
      ? `Fails **${plans[0].service}** over: **${plans[0].from} → ${plans[0].to}** (\`${plans[0].action}\`).`
      : `Fails ${plans.length} services over.`;
  return `${headline}

| service | action | from | to | manifests |
| --- | --- | --- | --- | --- |
${moves.join("\n")}

Requested by ${escapeMarkdown(request.requester)} through \`${request.trigger}\`.
${warnings.length === 0 ? "" : `\n**Warnings**\n${warnings.map((w) => `- ${w}`).join("\n")}\n`}
\`\`\`diff
${diff.replace(/```/g, "ʼʼʼ")}
\`\`\`

Opened by failover-api. Merging applies it through Flux.
`;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]<>|@#]/g, (c) => `\\${c}`);
}
