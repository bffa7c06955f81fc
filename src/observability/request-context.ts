import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "pino";

/** What the code serving one HTTP request may want to know about it, wherever it runs. */
export interface RequestContext {
  readonly id: string;
  /** The request's logger: every line carries its request id. */
  readonly log: Logger;
  /** `token <name>` once a named API token authenticated the request. */
  requester?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runInRequest<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

/** The current request's logger, else `base` (for code shared by requests and the rest). */
export function requestLogger(base: Logger): () => Logger {
  return () => storage.getStore()?.log ?? base;
}
