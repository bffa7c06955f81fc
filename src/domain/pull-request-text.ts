import type { Trigger } from "./outcome.js";
import type { FailoverPlan } from "./plan.js";

/** The fixed branch of a service's failover PR: one open PR per service, reused. */
export function failoverBranch(service: string): string {
  return `failover/${service}`;
}

export function pullRequestTitle(plan: FailoverPlan): string {
  return `failover(${plan.service}): ${plan.action} to ${plan.to}`;
}

/** The PR body: the same facts as the commit trailers, plus the diff. */
export function pullRequestBody(
  plan: FailoverPlan,
  request: { trigger: Trigger; requester: string },
): string {
  const warnings =
    plan.warnings.length === 0
      ? ""
      : `\n**Warnings**\n${plan.warnings.map((w) => `- ${w}`).join("\n")}\n`;
  return `Fails **${plan.service}** over: **${plan.from} → ${plan.to}** (\`${plan.action}\`).

| | |
| --- | --- |
| service | \`${plan.service}\` |
| action | \`${plan.action}\` |
| from | \`${plan.from}\` |
| to | \`${plan.to}\` |
| requested by | ${escapeMarkdown(request.requester)} |
| through | \`${request.trigger}\` |
| manifest | \`${plan.path}\` |
${warnings}
\`\`\`diff
${plan.diff.replace(/```/g, "ʼʼʼ")}
\`\`\`

Opened by failover-api. Merging applies it through Flux.
`;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>@]/g, (c) => `\\${c}`);
}
