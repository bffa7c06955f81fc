import express from "express";
import type { Logger } from "pino";
import { listen } from "../server.js";
import { readAppYml } from "./manifest.js";
import { createSetupApp } from "./setup-server.js";

export interface RunSetupOptions {
  readonly envFile: string;
  readonly webhookUrl?: string | undefined;
  readonly org?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
}

/**
 * `failover-api serve --setup` (`npm start -- --setup`): serves the manifest flow's page on
 * PORT (loopback unless HOST says otherwise: the callback writes secrets), waits for the
 * registration, writes the .env file, and exits.
 */
export async function runSetup(options: RunSetupOptions): Promise<number> {
  const { env, logger } = options;
  if ((env.APP_ID ?? "").trim() !== "") {
    process.stderr.write(
      `failover-api: APP_ID is already set (${env.APP_ID}): a GitHub App is registered. Remove APP_ID and PRIVATE_KEY from ${options.envFile} and the environment to register a new one.\n`,
    );
    return 1;
  }
  if (options.webhookUrl !== undefined && !/^https?:\/\//.test(options.webhookUrl)) {
    process.stderr.write("failover-api: --webhook-url must be an http(s) URL\n");
    return 2;
  }
  const gheHost = (env.GHE_HOST ?? "").trim();
  const webUrl =
    gheHost === "" ? "https://github.com" : `${env.GHE_PROTOCOL ?? "https"}://${gheHost}`;
  const apiUrl = gheHost === "" ? "https://api.github.com" : `${webUrl}/api/v3`;
  const port = Number(env.PORT ?? 8080);
  const host = (env.HOST ?? "").trim() || "127.0.0.1";
  const manifestApp = await readAppYml();
  // The manifest names this server's callback, whose port is known once listening (PORT
  // may be 0): listen first, mount the setup routes then.
  let setup: ReturnType<typeof createSetupApp> | undefined;
  const root = express();
  root.use((req, res, next) => {
    if (setup === undefined) res.status(503).end();
    else setup.app(req, res, next);
  });
  const server = await listen(root, port, host);
  const base = server.url;
  setup = createSetupApp({
    app: manifestApp,
    baseUrl: base,
    webUrl,
    apiUrl,
    org: options.org,
    webhookUrl: options.webhookUrl,
    envFile: options.envFile,
    logger,
  });
  process.stdout.write(
    `\nfailover-api setup: open ${base}/setup in a browser to register the GitHub App${options.org === undefined ? "" : ` for ${options.org}`} on ${webUrl}\n\n`,
  );
  logger.info({ url: `${base}/setup` }, "failover-api setup listening");
  const outcome = await Promise.race([
    setup.done.then((app) => ({ app })),
    new Promise<{ signal: string }>((resolve) => {
      process.once("SIGINT", () => resolve({ signal: "SIGINT" }));
      process.once("SIGTERM", () => resolve({ signal: "SIGTERM" }));
    }),
  ]);
  // Let the browser receive the last page before the server goes.
  await new Promise((r) => setTimeout(r, 200));
  await server.close();
  if ("signal" in outcome) return 130;
  process.stdout.write(
    `registered ${outcome.app.html_url} (App ID ${outcome.app.id}); credentials written to ${options.envFile}\nnext: install it on the GitOps repository (${outcome.app.html_url}/installations/new), set GITOPS_REPOSITORY, then npm start\n`,
  );
  return 0;
}
