import type { AddressInfo } from "node:net";
import express, { type Express } from "express";
import type { Logger } from "pino";
import type { WebhookMiddleware } from "./compose.js";
import { FailoverError } from "./domain/errors.js";
import type { FailoverContext } from "./failover/context.js";
import { apiRouter, jsonErrorHandler } from "./http/routes.js";

export function createHttpApp(
  ctx: FailoverContext,
  logger: Logger,
  options: { webhooks?: WebhookMiddleware | undefined } = {},
): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  const { webhooks } = options;
  if (webhooks !== undefined) {
    // Before any body parser: Probot verifies the signature over the raw body.
    app.use((req, res, next) => {
      Promise.resolve(webhooks(req, res, next)).catch(next);
    });
  }
  app.use("/api", apiRouter(ctx));
  app.use((req, _res, next) => {
    next(new FailoverError("not_found", `no route ${req.method} ${req.path}`));
  });
  app.use(
    jsonErrorHandler((error, req) => {
      logger.error({ err: error, method: req.method, path: req.path }, "request failed");
    }),
  );
  return app;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
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
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
