import { createHmac } from "node:crypto";
import type { Logger } from "pino";
import type { BranchChange } from "../failover/context.js";

export interface ReceiverPingOptions {
  /** `http://webhook-receiver.flux-system.svc.cluster.local` + the Receiver's webhookPath. */
  readonly url: string;
  /** The `token` of the Receiver's secretRef: the HMAC key. */
  readonly secret: string;
  readonly timeoutMs: number;
  /** A function: the logger of the request being served (its request id), else the base one. */
  readonly logger: Logger | (() => Logger);
  readonly onResult?: (result: "success" | "failure") => void;
}

/** `sha256=<hex>`: the X-Signature a Flux `generic-hmac` Receiver verifies over the raw body. */
export function receiverSignature(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/**
 * Asks Flux's notification-controller to reconcile now, through a Receiver of type
 * `generic-hmac`, after a failover changed the branch. Only a speed-up: Flux applies the
 * commit at its next interval anyway, so a failed ping is logged and counted, never thrown.
 */
export function fluxReceiverPing(
  options: ReceiverPingOptions,
): (change: BranchChange) => Promise<void> {
  return async (change) => {
    const body = JSON.stringify({
      source: "failover-api",
      service: change.service,
      action: change.action,
      outcome: change.outcome,
      ...(change.commit === undefined ? {} : { commit: change.commit }),
    });
    const started = performance.now();
    const logger = typeof options.logger === "function" ? options.logger() : options.logger;
    try {
      const response = await fetch(options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-signature": receiverSignature(body, options.secret),
          "user-agent": "failover-api",
        },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
        redirect: "error",
      });
      await response.body?.cancel().catch(() => undefined);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      logger.info(
        { service: change.service, ms: Math.round(performance.now() - started) },
        "asked Flux to reconcile",
      );
      options.onResult?.("success");
    } catch (error) {
      logger.warn(
        {
          service: change.service,
          error: describe(error, options.timeoutMs),
          ms: Math.round(performance.now() - started),
        },
        "Flux receiver ping failed; Flux applies the change at its next interval",
      );
      options.onResult?.("failure");
    }
  };
}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return `no answer within ${timeoutMs} ms`;
  }
  if (error instanceof Error) {
    const cause = (error.cause as { code?: string } | undefined)?.code;
    return cause === undefined ? error.message : `${error.message} (${cause})`;
  }
  return String(error);
}
