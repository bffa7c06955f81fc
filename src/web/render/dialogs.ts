import { type Html, html } from "../html.js";
import { diffBlock } from "./format.js";

export interface ConfirmRequest {
  /** `sonarr`, or a node name for a node-wide failover. */
  readonly subject: string;
  readonly kind: "service" | "node";
  readonly action: "promote" | "demote";
  /** The dry run's answer: what will change. */
  /** The dry run's API view (FailoverView or NodeFailoverView). */
  readonly preview: {
    readonly message?: string;
    readonly diff?: string;
    readonly warnings?: readonly string[];
  };
}

/**
 * The type-to-confirm dialog (app.js opens it as a modal). Nothing is written until the name is
 * typed and Confirm pressed; the server checks the typed name again.
 */
export function confirmDialog(request: ConfirmRequest): Html {
  const { subject, kind, action, preview } = request;
  const warnings = preview.warnings ?? [];
  const post =
    kind === "service" ? `/ui/services/${subject}/${action}` : `/ui/nodes/${subject}/${action}`;
  const title = `${action === "promote" ? "Promote" : "Demote"} ${kind === "node" ? `node ${subject}` : subject}`;
  return html`<dialog id="confirm-dialog" aria-labelledby="confirm-title" aria-describedby="confirm-what">
<h2 id="confirm-title">${title}</h2>
<p id="confirm-what">${String(preview.message ?? "")}</p>
${warnings.length === 0 ? "" : html`<ul class="warnings">${warnings.map((w) => html`<li>${w}</li>`)}</ul>`}
${diffBlock(preview.diff)}
<form hx-post="${post}" hx-target="#result" hx-disabled-elt="find button" hx-indicator="#confirm-busy">
<label for="confirm-input">Type ${subject} to confirm</label>
<input id="confirm-input" name="confirm" autocomplete="off" autocapitalize="off" spellcheck="false" required pattern="${escapeRegExp(subject)}" autofocus>
<div class="buttons">
<button type="submit">Confirm</button>
<button type="button" data-close-dialog>Cancel</button>
<span id="confirm-busy" class="htmx-indicator" role="status">${action === "promote" ? "Promoting" : "Demoting"} ${subject}…</span>
</div>
</form>
</dialog>`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
