import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import { pinoHttp } from "pino-http";
import { runInRequest } from "./request-context.js";

/** A client's X-Request-Id is kept when it looks like an id, not like an injection. */
const SANE_ID = /^[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}$/;
const PROBES = new Set(["/api/health", "/api/ready", "/metrics"]);

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" && SANE_ID.test(value) ? value : undefined;
}

function pathOf(url: string | undefined): string {
  return (url ?? "/").split("?")[0] ?? "/";
}

/** Express rewrites `req.url` inside mounted routers; `originalUrl` is what the client sent. */
function requestPath(req: IncomingMessage): string {
  return pathOf((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url);
}

/**
 * One log line per request (probes at debug), and a child logger (`req.log`) whose every
 * line carries the request id: the client's `X-Request-Id` when sane, else GitHub's
 * `X-GitHub-Delivery` for webhooks, else a new UUID. The id is echoed in `X-Request-Id`.
 * Only method, path, status and client address are logged: never headers or bodies, so no
 * Authorization header or signature can reach the log.
 */
export function requestLogging(logger: Logger): RequestHandler {
  const http = pinoHttp({
    logger,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const id =
        headerValue(req, "x-request-id") ?? headerValue(req, "x-github-delivery") ?? randomUUID();
      res.setHeader("X-Request-Id", id);
      return id;
    },
    customAttributeKeys: { reqId: "requestId" },
    serializers: {
      req: (req: { method?: string; url?: string; remoteAddress?: string }) => ({
        method: req.method,
        path: pathOf(req.url),
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
    // Lines logged through req.log carry the id only; the completion line has the rest.
    quietReqLogger: true,
    customProps: (req: IncomingMessage) => {
      const delivery = headerValue(req, "x-github-delivery");
      const event = req.headers["x-github-event"];
      return delivery === undefined
        ? {}
        : { delivery, ...(typeof event === "string" ? { event: event.slice(0, 64) } : {}) };
    },
    customLogLevel: (req: IncomingMessage, res: ServerResponse, error?: Error) => {
      if (error !== undefined || res.statusCode >= 500) return "error";
      if (PROBES.has(requestPath(req))) return "debug";
      return res.statusCode >= 400 ? "warn" : "info";
    },
    customSuccessMessage: (req: IncomingMessage, res: ServerResponse) =>
      `${req.method} ${requestPath(req)} ${res.statusCode}`,
    customErrorMessage: (req: IncomingMessage, res: ServerResponse) =>
      `${req.method} ${requestPath(req)} ${res.statusCode}`,
  });
  return (req, res, next) => {
    http(req, res);
    runInRequest({ id: String(req.id), log: req.log }, next);
  };
}
