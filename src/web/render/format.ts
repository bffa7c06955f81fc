import { type Html, html } from "../html.js";

/** A commit: linked where the backend has a browsable URL, else its short sha. */
export function commitLink(sha: string, url: string | undefined): Html {
  const short = sha.slice(0, 12);
  return url === undefined
    ? html`<code title="${sha}">${short}</code>`
    : html`<a href="${url}" rel="noreferrer"><code>${short}</code></a>`;
}

/** A timestamp as written (UTC ISO), in a <time> element. */
export function when(iso: string): Html {
  const shown = iso
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z")
    .replace(/\+00:00$/, "Z");
  return html`<time datetime="${iso}">${shown}</time>`;
}

/** A unified diff, one line per element so +/- lines can be told apart (not by colour alone). */
export function diffBlock(diff: unknown): Html {
  if (typeof diff !== "string" || diff === "") return html``;
  const lines = diff.split("\n").map((line) => {
    const kind = line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "ctx";
    return html`<span class="${kind}">${line}</span>\n`;
  });
  return html`<pre class="diff" tabindex="0" aria-label="diff">${lines}</pre>`;
}
