import express, { type RequestHandler, Router } from "express";
import type { Logger } from "pino";
import { FailoverError } from "../domain/errors.js";
import type { FluxConfirmation } from "../flux/confirmation.js";
import {
  fluxEventSchema,
  MAX_FLUX_EVENT_BYTES,
  reportOf,
  verifyFluxSignature,
} from "../flux/flux-event.js";
import type { ApiAuth } from "../http/auth.js";
import type { OperationStore } from "../operations/operation-store.js";
import type { AlertTrigger } from "./alert-trigger.js";
import { alertmanagerPayloadSchema, MAX_ALERTMANAGER_BYTES } from "./alertmanager-payload.js";

export interface AutomationRouteDeps {
  readonly trigger: AlertTrigger;
  readonly confirmation: FluxConfirmation;
  readonly store: OperationStore;
  /** FLUX_EVENTS_SECRET; unset: every Flux event is refused. */
  readonly fluxSecret: string | undefined;
  readonly logger: Logger;
}

export const OPERATION_ID = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * Mounted at /api BEFORE the API's 4 KiB body limit: Alertmanager groups and Flux events
 * are larger, and Flux signs the raw body. POST /alertmanager needs an API bearer token
 * (and refuses when no token is configured: automation must not be open to anyone);
 * POST /flux/events needs the X-Signature HMAC.
 */
export function earlyRoutes(deps: AutomationRouteDeps, auth: ApiAuth | undefined): Router {
  const router = Router({ caseSensitive: true, strict: true });
  const tokenRequired: RequestHandler = (req, res, next) => {
    if (auth === undefined || !auth.enabled) {
      next(
        new FailoverError(
          "forbidden",
          "automatic failover needs API tokens: set FAILOVER_API_TOKENS and give Alertmanager one (http_config.authorization)",
        ),
      );
      return;
    }
    auth.middleware()(req, res, next);
  };

  router.post("/alertmanager", tokenRequired, rawBody(MAX_ALERTMANAGER_BYTES), async (req, res) => {
    const parsed = alertmanagerPayloadSchema.safeParse(jsonOf(req.body));
    if (!parsed.success) throw invalid("Alertmanager payload", parsed.error);
    const alerts = await deps.trigger.handle(parsed.data);
    // 5xx makes Alertmanager retry; a retry is answered from Git without a second commit.
    const retry = alerts.some((a) => a.result === "failed");
    res.status(retry ? 503 : 200).json({ alerts });
  });

  router.post("/flux/events", rawBody(MAX_FLUX_EVENT_BYTES), async (req, res) => {
    const body = req.body as Buffer;
    if (
      deps.fluxSecret === undefined ||
      !verifyFluxSignature(body, req.get("x-signature"), deps.fluxSecret)
    ) {
      throw new FailoverError(
        "unauthorized",
        deps.fluxSecret === undefined
          ? "FLUX_EVENTS_SECRET is not set: no Flux event can be verified"
          : "missing or wrong X-Signature (sha256=<HMAC-SHA256 of the body with FLUX_EVENTS_SECRET>)",
      );
    }
    const parsed = fluxEventSchema.safeParse(jsonOf(body));
    if (!parsed.success) throw invalid("Flux event", parsed.error);
    const report = reportOf(parsed.data);
    const settled = report === undefined ? [] : await deps.confirmation.report(report);
    res.status(202).json({ accepted: true, relevant: report !== undefined, operations: settled });
  });
  return router;
}

/** Mounted at /api after auth and rate limits: GET /operations/:id. */
export function operationRoutes(deps: Pick<AutomationRouteDeps, "store">): Router {
  const router = Router({ caseSensitive: true, strict: true });
  router.get("/operations/:id", async (req, res) => {
    const id = req.params.id;
    if (!OPERATION_ID.test(id)) {
      throw new FailoverError("invalid_input", "an operation id is letters, digits, . _ -");
    }
    const op = await deps.store.find(id);
    if (op === undefined) throw new FailoverError("not_found", `no operation ${id}`);
    res.json({ operation: op });
  });
  return router;
}

function rawBody(limit: number): RequestHandler {
  return express.raw({ type: () => true, limit });
}

function jsonOf(body: unknown): unknown {
  const text = Buffer.isBuffer(body) ? body.toString("utf8") : "";
  try {
    return JSON.parse(text);
  } catch {
    throw new FailoverError("invalid_input", "the body is not JSON");
  }
}

function invalid(
  what: string,
  error: { issues: readonly { path: PropertyKey[]; message: string }[] },
) {
  const problems = error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join(".") || "(body)"}: ${i.message}`)
    .join("; ");
  return new FailoverError("invalid_input", `not a valid ${what}: ${problems}`);
}
