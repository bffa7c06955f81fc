import { type Html, html } from "../html.js";

/**
 * htmx without eval, inline styles or script tags in swapped content (the CSP allows none of
 * them), and 4xx/5xx answers swapped in like any other: an error is shown, never swallowed.
 */
const HTMX_CONFIG = JSON.stringify({
  allowEval: false,
  allowScriptTags: false,
  includeIndicatorStyles: false,
  selfRequestsOnly: true,
  historyEnabled: false,
  // Not "style": settling it sets a style attribute, which the CSP (rightly) blocks.
  attributesToSettle: ["class", "width", "height"],
  responseHandling: [
    { code: "204", swap: false },
    { code: "[2345]..", swap: true },
  ],
});

/** The whole document around a page's content. */
export function layout(title: string, body: Html, csrf: string | undefined): Html {
  const headers = csrf === undefined ? undefined : JSON.stringify({ "X-CSRF-Token": csrf });
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content="${HTMX_CONFIG}">
<title>${title}</title>
<link rel="stylesheet" href="/assets/app.css">
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<script src="/assets/htmx.min.js" defer></script>
<script src="/assets/app.js" defer></script>
</head>
<body${headers === undefined ? "" : html` hx-headers="${headers}"`}>
${body}
</body>
</html>
`;
}

export function signInPage(problem: string | undefined): Html {
  return layout(
    "Sign in: failover-api",
    html`<main class="narrow">
<h1>failover-api</h1>
<p>This server needs an API token (one of <code>FAILOVER_API_TOKENS</code>). The page keeps a
session cookie after you sign in; the token is not stored in the browser.</p>
${problem === undefined ? "" : html`<p class="error" role="alert">${problem}</p>`}
<form method="post" action="/ui/session">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
</main>`,
    undefined,
  );
}
