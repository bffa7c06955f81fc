import { type Html, html } from "../html.js";
import type { RunningOperation } from "../in-progress.js";
import { layout } from "./layout.js";
import { runningSection, type ServicesView, servicesSection } from "./services.js";

export function mainPage(options: {
  readonly view: ServicesView;
  readonly running: readonly RunningOperation[];
  readonly csrf: string;
  /** Shown with a sign-out button when the server has API tokens. */
  readonly signedInAs: string | undefined;
}): Html {
  const { signedInAs } = options;
  return layout(
    "failover-api",
    html`<header>
<h1>failover-api</h1>
${
  signedInAs === undefined
    ? ""
    : html`<form method="post" action="/ui/session/end" class="signout">
<input type="hidden" name="csrf" value="${options.csrf}">
<span>Signed in as ${signedInAs}</span> <button type="submit">Sign out</button>
</form>`
}
</header>
<main>
<section aria-labelledby="services-title">
<h2 id="services-title">Services</h2>
${servicesSection(options.view)}
</section>
<section aria-labelledby="running-title">
<h2 id="running-title">In progress</h2>
${runningSection(options.running)}
</section>
<section aria-labelledby="result-title">
<h2 id="result-title">Last answer</h2>
<div id="result" aria-live="polite" tabindex="-1"><p><small>Preview, promote, demote or lock a service: the answer shows here.</small></p></div>
</section>
<div id="dialog-slot"></div>
</main>`,
    options.csrf,
  );
}
