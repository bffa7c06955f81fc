import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Express } from "express";
import type { Logger } from "pino";
import type { Automation } from "./automation/compose-automation.js";
import { FailoverError } from "./domain/errors.js";
import type { FailoverContext } from "./failover/context.js";
import type { ApiAuth } from "./http/auth.js";
import { crossSiteWrites } from "./http/cross-site.js";
import { lazyRoute } from "./http/lazy-route.js";
import type { RateLimiter } from "./http/rate-limit.js";
import { bodyLimit, urlLimit } from "./http/request-limits.js";
import { apiRouter, jsonErrorHandler } from "./http/routes.js";
import type { GitHubCheck } from "./observability/github-check.js";
import type { InflightRequests } from "./observability/inflight.js";
import type { Metrics } from "./observability/metrics.js";
import type { Readiness } from "./observability/readiness.js";
import { requestLogging } from "./observability/request-logging.js";
import { isWebPath } from "./web/paths.js";

/** Probot's webhook handler (GitHub App mode), mounted before any body parser. */
export type WebhookMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: Error) => void,
) => unknown;

/** What the HTTP server needs to be run in production (built by compose.ts): docs/operations.md. */
export interface Operations {
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly inflight: InflightRequests;
  readonly auth: ApiAuth;
  /** Requests that may write (every method but GET and HEAD), per client. */
  readonly rateLimiter: RateLimiter;
  /** GET and HEAD, per client, in their own bucket (FAILOVER_READ_RATE_LIMIT). */
  readonly readRateLimiter: RateLimiter;
  readonly webhookPath: string;
  /** GitHub mode: checks the credentials for readiness once started (`serve` starts it). */
  readonly githubCheck: GitHubCheck | undefined;
  /** Stops the tokens file watcher and the GitHub check. */
  close(): void;
}

export function createHttpApp(
  ctx: FailoverContext,
  logger: Logger,
  options: {
    webhooks?: WebhookMiddleware | undefined;
    /** Auth, rate limit, readiness, metrics, in-flight tracking (docs/operations.md). */
    operations?: Operations | undefined;
    automation?: Pick<Automation, "early" | "router"> | undefined;
  } = {},
): Express {
  const app = express();
  // Before any route or middleware is added (the app's router takes them when it is made):
  // `/METRICS` or `/metrics/` is not `/metrics`, so routing never serves what auth exempts
  // under another spelling.
  app.set("case sensitive routing", true);
  app.set("strict routing", true);
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  const { webhooks, operations: ops } = options;
  if (ops !== undefined) app.use(ops.inflight.middleware());
  app.use(requestLogging(logger));
  app.use(urlLimit());
  if (webhooks !== undefined) {
    // Before any body parser: Probot verifies the signature over the raw body.
    app.use((req, res, next) => {
      Promise.resolve(webhooks(req, res, next)).catch(next);
    });
  }
  const isWebhook = (path: string) => path === ops?.webhookPath;
  // Before anything acts on a write: a browser's cross-site POST never reaches a route.
  app.use(crossSiteWrites({ authEnabled: () => ops?.auth.enabled === true }));
  // Writes are limited per client before anything reads a body or checks a token: the early
  // routes too (a token guessed at /api/alertmanager, HMACs of large bodies at /api/flux/events).
  if (ops !== undefined) app.use(ops.rateLimiter.middleware(isWebhook));
  // Before the body limit: Alertmanager groups and Flux events are larger; Flux signs raw bodies.
  if (options.automation !== undefined) app.use("/api", options.automation.early(ops?.auth));
  app.use(bodyLimit());
  if (ops !== undefined) {
    // Probes are never limited: a 429 would take the pod out of the Service or restart it.
    const isProbe = (path: string) => path === "/api/health" || path === "/api/ready";
    app.use(ops.readRateLimiter.middleware((path) => isProbe(path) || isWebhook(path)));
    app.use(ops.auth.middleware());
    app.get("/metrics", ops.metrics.handler());
    app.get("/api/ready", ops.readiness.handler());
  }
  // The web page (src/web; it checks its own session) and the OpenAPI document, each imported
  // on its first request: neither is needed to be ready or to fail over (issue 11's start
  // time and idle memory). Only the page's own paths load the page.
  const web = lazyRoute("the web page", async () => {
    const { webRouter } = await import("./web/router.js");
    return webRouter(ctx, { auth: ops?.auth, logger });
  });
  app.use((req, res, next) => (isWebPath(req.path) ? web(req, res, next) : next()));
  app.get(
    "/openapi.json",
    lazyRoute("the OpenAPI document", async () => {
      const { openApiHandler } = await import("./http/openapi/handler.js");
      return openApiHandler(ops?.webhookPath);
    }),
  );
  if (options.automation !== undefined) app.use("/api", options.automation.router);
  app.use("/api", apiRouter(ctx));
  app.use((req, _res, next) => {
    next(new FailoverError("not_found", `no route ${req.method} ${req.path}`));
  });
  app.use(
    jsonErrorHandler((error, req) => {
      (req.log ?? logger).error(
        { err: error, method: req.method, path: req.path },
        "request failed",
      );
    }),
  );
  return app;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** The node:http server (graceful shutdown manages its connections). */
  readonly server: Server;
  close(): Promise<void>;
}

export async function listen(app: Express, port: number, host: string): Promise<RunningServer> {
  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
