import { randomBytes, timingSafeEqual } from "node:crypto";
import { resolve } from "node:path";
import { Octokit } from "@octokit/core";
import express, { type Express } from "express";
import type { Logger } from "pino";
import { updateEnvFile } from "./env-file.js";
import { type AppYml, buildManifest, createAppUrl } from "./manifest.js";

export interface SetupOptions {
  readonly app: AppYml;
  /** Where the browser reaches this page, e.g. http://localhost:8080 (GitHub redirects here). */
  readonly baseUrl: string;
  /** https://github.com, or the GitHub Enterprise Server's web address. */
  readonly webUrl: string;
  /** https://api.github.com, or https://HOST/api/v3. */
  readonly apiUrl: string;
  /** Register the App for this organisation instead of the signed-in user. */
  readonly org?: string | undefined;
  /** The public webhook URL (https://<host>/api/github/webhooks), when there is one. */
  readonly webhookUrl?: string | undefined;
  /** The .env file written with the App's credentials. */
  readonly envFile: string;
  readonly logger: Logger;
}

/** What GitHub's conversion answers (POST /app-manifests/{code}/conversions), the part we keep. */
export interface RegisteredApp {
  readonly id: number;
  readonly slug?: string;
  readonly name: string;
  readonly html_url: string;
  readonly client_id: string;
  readonly client_secret: string;
  readonly webhook_secret: string | null;
  readonly pem: string;
}

export interface SetupApp {
  readonly app: Express;
  /** Resolves with the registered App once the callback has written the .env file. */
  readonly done: Promise<RegisteredApp>;
}

/**
 * GitHub's App manifest flow, three steps:
 * 1. GET /setup: a page whose form POSTs `manifest` (JSON: app.yml's permissions and events,
 *    this page's callback as `redirect_url`) to GitHub's "new App" page, with a random
 *    `state`;
 * 2. GitHub creates the App and sends the browser to GET /setup/callback?code=...&state=...;
 * 3. the code (valid for an hour, once) is exchanged with
 *    `POST /app-manifests/{code}/conversions` (no authentication) for the App's id, private
 *    key, webhook secret and OAuth client: written to the .env file.
 *
 * Probot's own ManifestCreation is not used: it sends no `state`, lets app.yml's placeholder
 * hook URL win over the real one, writes .env only in the working directory, and is not
 * among probot's package exports (probot/lib/manifest-creation.js).
 */
export function createSetupApp(options: SetupOptions): SetupApp {
  const state = randomBytes(24).toString("hex");
  const redirectUrl = new URL("/setup/callback", options.baseUrl).toString();
  const manifest = buildManifest(options.app, {
    redirectUrl,
    webhookUrl: options.webhookUrl,
  });
  const action = createAppUrl(options.webUrl, state, options.org);
  let finish: (app: RegisteredApp) => void = () => undefined;
  const done = new Promise<RegisteredApp>((r) => {
    finish = r;
  });
  let used = false;

  const app = express();
  app.disable("x-powered-by");
  app.use((_req, res, next) => {
    res.set("Cache-Control", "no-store");
    res.set("Referrer-Policy", "no-referrer");
    next();
  });
  app.get("/", (_req, res) => res.redirect("/setup"));
  app.get("/setup", (_req, res) => {
    res.type("html").send(setupPage(action, manifest, options));
  });
  app.get("/setup/callback", async (req, res) => {
    const code = typeof req.query.code === "string" ? req.query.code : "";
    const given = typeof req.query.state === "string" ? req.query.state : "";
    if (!sameState(given, state)) {
      res
        .status(403)
        .type("html")
        .send(
          page(
            "Wrong state",
            '<p>This link was not started by this setup page. Start again at <a href="/setup">/setup</a>.</p>',
          ),
        );
      return;
    }
    if (!/^[\w.-]{1,200}$/.test(code) || used) {
      res
        .status(400)
        .type("html")
        .send(
          page(
            "No code",
            '<p>GitHub sent no usable code (or it was used already). Start again at <a href="/setup">/setup</a>.</p>',
          ),
        );
      return;
    }
    used = true;
    try {
      const octokit = new Octokit({ baseUrl: options.apiUrl });
      const { data } = await octokit.request("POST /app-manifests/{code}/conversions", { code });
      const registered = data as unknown as RegisteredApp;
      await updateEnvFile(options.envFile, {
        APP_ID: String(registered.id),
        PRIVATE_KEY: registered.pem,
        ...(registered.webhook_secret === null || registered.webhook_secret === undefined
          ? {}
          : { WEBHOOK_SECRET: registered.webhook_secret }),
        GITHUB_CLIENT_ID: registered.client_id,
        GITHUB_CLIENT_SECRET: registered.client_secret,
      });
      options.logger.info(
        { appId: registered.id, app: registered.html_url, envFile: resolve(options.envFile) },
        "GitHub App registered; credentials written",
      );
      res.type("html").send(donePage(registered, options));
      finish(registered);
    } catch (error) {
      used = false;
      const status = (error as { status?: number }).status;
      options.logger.error({ err: error }, "GitHub App manifest conversion failed");
      res
        .status(502)
        .type("html")
        .send(
          page(
            "Registration failed",
            `<p>GitHub did not convert the code (${escapeHtml(String(status ?? "network error"))}): ${escapeHtml(error instanceof Error ? error.message : String(error))}. Codes expire after an hour. Start again at <a href="/setup">/setup</a>.</p>`,
          ),
        );
    }
  });
  return { app, done };
}

function sameState(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>failover-api: ${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.5}code{background:#eee;padding:0 .2em}td,th{text-align:left;padding:.1rem .8rem .1rem 0}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

function setupPage(
  action: string,
  manifest: ReturnType<typeof buildManifest>,
  options: SetupOptions,
): string {
  const permissions = Object.entries(manifest.default_permissions)
    .map(
      ([name, level]) =>
        `<tr><td><code>${escapeHtml(name)}</code></td><td>${escapeHtml(level)}</td></tr>`,
    )
    .join("");
  const events = manifest.default_events.map((e) => `<code>${escapeHtml(e)}</code>`).join(", ");
  const owner =
    options.org === undefined ? "your account" : `the organisation ${escapeHtml(options.org)}`;
  const hook = manifest.hook_attributes.active
    ? `Webhooks go to <code>${escapeHtml(manifest.hook_attributes.url)}</code>.`
    : "No public webhook URL was given (<code>--webhook-url</code>): the webhook is registered inactive. The HTTP API works without it; ChatOps and dispatch need it.";
  return page(
    "Register the failover-api GitHub App",
    `<p>This registers a GitHub App for ${owner} from <code>app.yml</code>. GitHub asks you to confirm the name, creates the App, and sends you back here; the App's ID, private key and secrets are then written to <code>${escapeHtml(resolve(options.envFile))}</code>.</p>
<table><tr><th>permission</th><th>access</th></tr>${permissions}</table>
<p>Events: ${events || "none"}. ${hook}</p>
<form action="${escapeHtml(action)}" method="post">
<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(manifest))}">
<button type="submit">Register on GitHub</button>
</form>`,
  );
}

function donePage(app: RegisteredApp, options: SetupOptions): string {
  const install = `${app.html_url}/installations/new`;
  return page(
    "GitHub App registered",
    `<p><a href="${escapeHtml(app.html_url)}">${escapeHtml(app.name)}</a> (App ID ${app.id}) is registered; its credentials are in <code>${escapeHtml(resolve(options.envFile))}</code> (mode 0600; keep it out of Git).</p>
<ol>
<li><a href="${escapeHtml(install)}">Install it</a> on the GitOps repository only.</li>
<li>Set <code>GITOPS_REPOSITORY=owner/name</code> (in the same file, or the environment) and start: <code>npm start</code>. <code>GET /api/ready</code> answers 200 once GitHub accepts the credentials.</li>
<li>In a cluster: put <code>APP_ID</code>, the private key and <code>WEBHOOK_SECRET</code> into the Secret <code>failover-api-github</code> (docs/deploy.md).</li>
</ol>
<p>You can close this page; the setup server has stopped.</p>`,
  );
}
