import type { ServiceSpec } from "../../domain/service.js";
import type { HistoryItem } from "../../failover/history.js";
import type { AllStatus, ServiceStatus } from "../../failover/status.js";
import { type Html, html } from "../html.js";
import type { RunningOperation } from "../in-progress.js";
import { commitLink, when } from "./format.js";

export interface ServicesView {
  readonly status: AllStatus;
  readonly lastFailovers: ReadonlyMap<string, HistoryItem | undefined>;
  readonly specs: readonly ServiceSpec[];
}

/**
 * The services table. It polls itself (and reloads when a write answered), so a failover made
 * elsewhere (ChatOps, the API, another browser) shows up without a reload.
 */
export function servicesSection(view: ServicesView): Html {
  const { status } = view;
  return html`<div id="services" hx-get="/ui/services" hx-trigger="every 5s, refresh from:body" hx-swap="outerHTML" hx-disinherit="*">
<p class="head">Branch <code>${status.branch}</code> at <code title="${status.head}">${status.head.slice(0, 12)}</code></p>
<div class="scroll">
<table role="table" class="services">
<caption>Services, as Git holds them</caption>
<thead role="rowgroup"><tr role="row">${COLUMNS.map((c) => html`<th scope="col" role="columnheader">${c}</th>`)}</tr></thead>
<tbody role="rowgroup">
${status.services.map((s) => serviceRow(s, view.lastFailovers.get(s.service)))}
</tbody>
</table>
</div>
${nodesPanel(view)}
</div>`;
}

const COLUMNS = ["Service", "State", "Node", "Claim", "Lock", "Last failover", "Actions"];

/**
 * A phone shows each row as a card (CSS), labelling each cell from `data-label`; the explicit
 * roles keep it a table for screen readers, which some browsers forget when a table's display
 * changes.
 */
function serviceRow(s: ServiceStatus, last: HistoryItem | undefined): Html {
  const name = s.service;
  // The action that would change something: a service on its primary is promoted to backup.
  const next = s.state === "backup" ? "demote" : "promote";
  return html`<tr id="row-${name}" role="row">
<th scope="row" role="rowheader">${name}</th>
<td role="cell" data-label="State"><div><span class="state state-${s.state}">${s.state}</span>${s.reason === undefined ? "" : html`<br><small>${s.reason}</small>`}</div></td>
<td role="cell" data-label="Node"><div>${s.observed.nodes.join(", ") || "?"}</div></td>
<td role="cell" data-label="Claim"><div>${s.observed.claims.join(", ") || "?"}</div></td>
<td role="cell" data-label="Lock"><div>${lockCell(s)}</div></td>
<td role="cell" data-label="Last failover"><div>${last === undefined ? html`<small>none</small>` : html`${last.action} to ${last.to ?? "?"} by ${last.requester ?? "?"}<br>${when(last.date)} ${commitLink(last.sha, last.url)}`}</div></td>
<td role="cell" class="actions" data-label="Actions"><div>
<button type="button" id="preview-${name}" aria-label="Preview ${name}" hx-get="/ui/services/${name}/preview?action=${next}" hx-target="#result">Preview</button>
<button type="button" id="promote-${name}" aria-label="Promote ${name}" hx-get="/ui/services/${name}/confirm?action=promote" hx-target="#dialog-slot">Promote</button>
<button type="button" id="demote-${name}" aria-label="Demote ${name}" hx-get="/ui/services/${name}/confirm?action=demote" hx-target="#dialog-slot">Demote</button>
</div></td>
</tr>`;
}

function lockCell(s: ServiceStatus): Html {
  const name = s.service;
  const lock = s.locked;
  if (lock !== undefined) {
    return html`<span class="locked">locked by ${lock.by}${lock.reason === "" ? "" : html`: ${lock.reason}`}</span>
${lock.at === "" ? "" : html`<br><small>since ${when(lock.at)}</small>`}${lock.problem === undefined ? "" : html`<br><small>${lock.problem}</small>`}
<form hx-post="/ui/services/${name}/unlock" hx-target="#result">
<button type="submit" id="unlock-${name}" aria-label="Unlock ${name}">Unlock</button>
</form>`;
  }
  return html`<form class="lock" hx-post="/ui/services/${name}/lock" hx-target="#result">
<label for="reason-${name}" class="sr-only">Lock reason for ${name}</label>
<input id="reason-${name}" name="reason" maxlength="300" placeholder="reason" autocomplete="off">
<button type="submit" id="lock-${name}" aria-label="Lock ${name}">Lock</button>
</form>`;
}

/** Services per node, from the config (primary and backup node) and from Git (where each is). */
function nodesPanel(view: ServicesView): Html {
  const states = new Map(view.status.services.map((s) => [s.service, s.state]));
  const primaries = [...new Set(view.specs.map((s) => s.nodes.primary))].sort();
  return html`<section aria-labelledby="nodes-title" class="nodes">
<h2 id="nodes-title">Nodes</h2>
<ul>
${primaries.map((node) => {
  const services = view.specs.filter((s) => s.nodes.primary === node);
  return html`<li>
<h3>${node}</h3>
<p>Primary node of ${services.map((s, i) => html`${i === 0 ? "" : ", "}${s.name} (${states.get(s.name) ?? "unknown"})`)}; their backup: ${[...new Set(services.map((s) => s.nodes.backup))].join(", ")}.</p>
<button type="button" id="promote-node-${node}" aria-label="Promote node ${node}" hx-get="/ui/nodes/${node}/confirm?action=promote" hx-target="#dialog-slot">Promote node ${node}</button>
<button type="button" id="demote-node-${node}" aria-label="Demote node ${node}" hx-get="/ui/nodes/${node}/confirm?action=demote" hx-target="#dialog-slot">Demote node ${node}</button>
</li>`;
})}
</ul>
</section>`;
}

/** What the page's writes are doing right now (polled every 2 s: with the table, about 42 reads a minute per open page, well under FAILOVER_READ_RATE_LIMIT). */
export function runningSection(running: readonly RunningOperation[]): Html {
  return html`<div id="running" hx-get="/ui/running" hx-trigger="every 2s, refresh from:body" hx-swap="outerHTML" hx-disinherit="*" aria-live="polite">
${
  running.length === 0
    ? html`<p><small>No operation in progress.</small></p>`
    : html`<ul>${running.map((r) => html`<li class="busy">${r.what} by ${r.by}, since ${when(r.since)}</li>`)}</ul>`
}
</div>`;
}
