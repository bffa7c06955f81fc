import type { RequestHandler } from "express";
import { FailoverError } from "../domain/errors.js";

/**
 * A handler whose module is imported on its first request instead of at start (issue 11:
 * start -> ready and idle memory; the web page and the OpenAPI document are not needed to
 * answer a probe or a failover). Concurrent first requests share one import. An import that
 * fails answers 500 naming what could not be loaded (the reason in the log), and is tried again on the next request:
 * the process, its readiness and the other routes are untouched.
 */
export function lazyRoute(what: string, load: () => Promise<RequestHandler>): RequestHandler {
  let loading: Promise<RequestHandler> | undefined;
  return (req, res, next) => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    loading.then(
      (handler) => Promise.resolve(handler(req, res, next)).catch(next),
      // The cause (a module path, a stack) goes to the server log, not to the client.
      (error: unknown) =>
        next(
          new FailoverError(
            "internal",
            `${what} could not be loaded; the API is unaffected. The server log says why (check the installation: npm ci, npm run build)`,
            { cause: error },
          ),
        ),
    );
  };
}
