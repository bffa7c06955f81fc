import type { ErrorBody } from "../../http/error-response.js";
import { type Html, html } from "../html.js";
import { commitLink, diffBlock } from "./format.js";

/** A use case's answer (the API's JSON body), as the page shows it in its result area. */
export function resultFragment(view: object): Html {
  // The API views (presenters/http-json.ts) of every kind; read as the JSON the API serves.
  const body = view as Record<string, unknown>;
  const commit = body.commit as { sha: string; url: string | undefined } | undefined;
  const pr = body.pull_request as { number: number; url: string } | undefined;
  const warnings = Array.isArray(body.warnings) ? (body.warnings as string[]) : [];
  return html`<div class="result ok outcome-${String(body.outcome)}">
<p><strong>${String(body.outcome)}</strong>: ${String(body.message ?? "")}</p>
${commit === undefined ? "" : html`<p>Commit ${commitLink(commit.sha, commit.url)}</p>`}
${pr === undefined ? "" : html`<p>Pull request <a href="${pr.url}" rel="noreferrer">#${pr.number}</a></p>`}
${servicesOf(body)}
${warnings.length === 0 ? "" : html`<ul class="warnings">${warnings.map((w) => html`<li>${w}</li>`)}</ul>`}
${diffBlock(body.diff)}
</div>`;
}

/** A node-wide answer: what happened to each service (moved, already there, locked, refused). */
function servicesOf(body: Record<string, unknown>): Html {
  if (!Array.isArray(body.services)) return html``;
  const entries = body.services as { service: string; result: string; message?: string }[];
  return html`<ul class="node-services">${entries.map(
    (e) =>
      html`<li><strong>${e.service}</strong>: ${e.result}${e.message === undefined ? "" : html` (${e.message})`}</li>`,
  )}</ul>`;
}

/** An error answer (423 locked, 422 refused, 409 conflict...), announced to screen readers. */
export function errorFragment(status: number, body: ErrorBody): Html {
  return html`<div class="result error" role="alert">
<p><strong>${status} ${body.error.code}</strong>: ${body.error.message}</p>
</div>`;
}
