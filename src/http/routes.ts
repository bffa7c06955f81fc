import { type NextFunction, type Request, type Response, Router } from "express";
import { FailoverError } from "../domain/errors.js";
import type { FailoverContext } from "../failover/context.js";
import { executeFailover, executeNodeFailover } from "../failover/execute-failover.js";
import { getHistory } from "../failover/history.js";
import { listServices } from "../failover/list.js";
import { setLock } from "../failover/locks.js";
import { getAllStatus, getStatus } from "../failover/status.js";
import { currentRequest } from "../observability/request-context.js";
import { errorResponse } from "./error-response.js";
import { renderFailoverResult, renderLockResult, renderNodeResult } from "./render-result.js";
import {
  parseAction,
  parseLimit,
  parseNodeParam,
  parseServiceParam,
  parseVerb,
} from "./request-schemas.js";
import { parseFailoverInput, parseLockInput } from "./write-input.js";

/** `token <name>` when a named API token authenticated the request, else the client address. */
function requesterOf(req: Request): string {
  return currentRequest()?.requester ?? `http ${req.ip ?? "unknown"}`;
}

/**
 * The seed's API, under /api. Each route parses its input and calls one use case. Routing is
 * case-sensitive and strict (no trailing slash), as the app's: a path either is exactly a
 * route, or it is a 404, so auth (src/http/auth.ts) and routing always agree on the path.
 */
export function apiRouter(ctx: FailoverContext): Router {
  const router = Router({ caseSensitive: true, strict: true });

  router.get("/health", (_req, res) => {
    res.json({ status: "ok" });
  });

  router.get("/services", (_req, res) => {
    res.json({ services: listServices(ctx) });
  });

  router.get("/status", async (_req, res) => {
    res.json(await getAllStatus(ctx));
  });

  router.all("/failover/:service/:verb", async (req, res) => {
    const service = parseServiceParam(req.params.service);
    const verb = parseVerb(req.params.verb);
    const method = req.method === "HEAD" ? "GET" : req.method;
    if (verb === "status" || verb === "history") {
      if (method !== "GET") throw methodNotAllowed("GET", `GET /api/failover/${service}/${verb}`);
      res.json(
        verb === "status"
          ? await getStatus(ctx, service)
          : { service, history: await getHistory(ctx, service, parseLimit(req.query)) },
      );
      return;
    }
    if (verb === "lock" || verb === "unlock") {
      if (method !== "POST")
        throw methodNotAllowed("POST", `POST /api/failover/${service}/${verb}`);
      const { reason } = parseLockInput(req);
      const result = await setLock(ctx, {
        service,
        lock: verb === "lock",
        reason,
        requester: requesterOf(req),
      });
      res.json(renderLockResult(service, result));
      return;
    }
    if (method !== "GET" && method !== "POST") {
      throw methodNotAllowed("POST", `use POST /api/failover/${service}/${verb}`);
    }
    const { dryRun, mode } = parseFailoverInput(req);
    if (method === "GET" && !dryRun) {
      throw methodNotAllowed(
        "POST",
        `a ${verb} changes Git: use POST /api/failover/${service}/${verb}, or GET with ?dry-run=true to preview it`,
      );
    }
    const { result, audit } = await executeFailover(ctx, {
      service,
      action: verb,
      dryRun,
      mode,
      trigger: "http",
      requester: requesterOf(req),
    });
    res.json({
      ...renderFailoverResult(result),
      ...(audit === undefined ? {} : { deployment: audit }),
    });
  });

  router.all("/nodes/:node/:verb", async (req, res) => {
    const node = parseNodeParam(req.params.node);
    const action = parseAction(req.params.verb);
    const method = req.method === "HEAD" ? "GET" : req.method;
    if (method !== "GET" && method !== "POST") {
      throw methodNotAllowed("POST", `use POST /api/nodes/${node}/${action}`);
    }
    const { dryRun, mode } = parseFailoverInput(req);
    if (method === "GET" && !dryRun) {
      throw methodNotAllowed(
        "POST",
        `a node-wide ${action} changes Git: use POST /api/nodes/${node}/${action}, or GET with ?dry-run=true to preview it`,
      );
    }
    const result = await executeNodeFailover(ctx, {
      node,
      action,
      dryRun,
      mode,
      trigger: "http",
      requester: requesterOf(req),
    });
    res.json(renderNodeResult(result));
  });

  router.use((req, _res, next) => {
    next(new FailoverError("not_found", `no route ${req.method} ${req.originalUrl.split("?")[0]}`));
  });
  return router;
}

function methodNotAllowed(allow: string, hint: string): FailoverError {
  return new FailoverError("method_not_allowed", hint, { details: { allow } });
}

/** The express error handler: every error leaves as `{ error: { code, message } }`. */
export function jsonErrorHandler(
  onUnexpected: (error: unknown, req: Request) => void,
): (error: unknown, req: Request, res: Response, next: NextFunction) => void {
  return (error, req, res, _next) => {
    if (error instanceof FailoverError && typeof error.details?.allow === "string") {
      res.set("Allow", error.details.allow);
    }
    if (isBodyParserError(error)) {
      res.status(error.status).json({ error: { code: "invalid_input", message: error.message } });
      return;
    }
    const { status, body } = errorResponse(error);
    if (status >= 500) onUnexpected(error, req);
    res.status(status).json(body);
  };
}

/** Errors express and its parsers raise for bad requests (a body, a malformed %-escape). */
function isBodyParserError(error: unknown): error is { status: number; message: string } {
  return (
    (error instanceof URIError || (error instanceof Error && "type" in error)) &&
    "status" in error &&
    typeof error.status === "number" &&
    error.status >= 400 &&
    error.status < 500
  );
}
