import type { Logger } from "pino";
import type { NotifyMessage, NotifyTarget } from "./notify-target.js";

export interface NotifierOptions {
  readonly targets: readonly NotifyTarget[];
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/**
 * Sends each message to every configured target, in the background: a slow or failing
 * service never holds back a failover. Failures are logged with the redacted URL only.
 */
export class Notifier {
  readonly #options: NotifierOptions;
  readonly #inflight = new Set<Promise<void>>();

  constructor(options: NotifierOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#options.targets.length;
  }

  send(message: NotifyMessage): void {
    for (const target of this.#options.targets) {
      const sent = this.#deliver(target, message).finally(() => this.#inflight.delete(sent));
      this.#inflight.add(sent);
    }
  }

  /** Waits for the messages in flight (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#inflight]);
  }

  async #deliver(target: NotifyTarget, message: NotifyMessage): Promise<void> {
    const { url, init } = target.request(message);
    try {
      const res = await fetch(url, {
        ...init,
        redirect: "error",
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      await res.body?.cancel().catch(() => undefined);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (error) {
      this.#options.logger.warn(
        {
          target: target.redacted,
          // Never the error's message: fetch's name the URL, and notification URLs hold
          // secrets. The name and the network code say enough.
          error: describeFailure(error),
        },
        "notification not delivered",
      );
    }
  }
}

/** `timeout`, `HTTP 500`, `TypeError (ECONNREFUSED)`: what failed, without any URL. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return "failed";
  if (error.name === "TimeoutError") return "timeout";
  if (/^HTTP \d{3}$/.test(error.message)) return error.message;
  const cause = (error as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === "string" ? ` (${cause.code})` : "";
  return `${error.name}${code}`;
}
