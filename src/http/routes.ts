import { type NextFunction, type Request, type Response, Router } from "express";
import { FailoverError } from "../domain/errors.js";
import type { FailoverContext } from "../failover/context.js";
import { runCommand } from "../failover/run-command.js";
import { answerAccepted, startWithoutWaiting } from "../operations/accepted.js";
import { httpBody } from "../presenters/http-json.js";
import { httpCommand, originOf } from "./command-from-request.js";
import { errorResponse } from "./error-response.js";

/**
 * The seed's API, under /api. Each route parses its request into a Command
 * (command-from-request.ts), runs it, and renders the typed result (presenters/http-json.ts).
 * Routing is case-sensitive and strict (no trailing slash), as the app's: a path either is
 * exactly a route, or it is a 404, so auth (src/http/auth.ts) and routing always agree on
 * the path. A failover is answered as soon as its commit or PR is known: the audit and the
 * other after-effects run after (failover/listeners).
 */
export function apiRouter(ctx: FailoverContext): Router {
  const router = Router({ caseSensitive: true, strict: true });

  router.get("/health", (_req, res) => {
    res.json({ status: "ok" });
  });

  router.get("/services", async (req, res) => {
    res.json(httpBody(await runCommand(ctx, { ...originOf(req), kind: "list" })));
  });

  router.get("/status", async (req, res) => {
    res.json(
      httpBody(await runCommand(ctx, { ...originOf(req), kind: "status", service: undefined })),
    );
  });

  const command = async (req: Request, res: Response) => {
    const { command, wait } = httpCommand(req);
    // `?wait=false`: 202 + Location once the operation is known; a dry run writes nothing
    // and has no operation to follow, so it is answered with its plan as always.
    if (
      !wait &&
      (command.kind === "failover" || command.kind === "node_failover") &&
      !command.dryRun &&
      (await startWithoutWaiting(ctx, command))
    ) {
      answerAccepted(res, command.requestId);
      return;
    }
    res.json(httpBody(await runCommand(ctx, command)));
  };
  router.all("/failover/:service/:verb", command);
  router.all("/nodes/:node/:verb", command);

  router.use((req, _res, next) => {
    next(new FailoverError("not_found", `no route ${req.method} ${req.originalUrl.split("?")[0]}`));
  });
  return router;
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
