import { z } from "zod";
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiResponsesObject,
} from "zod-openapi";
import { alertmanagerPayloadSchema } from "../../automation/alertmanager-payload.js";
import { OPERATION_ID } from "../../automation/automation-router.js";
import { fluxEventSchema } from "../../flux/flux-event.js";
import { NODE_PARAM, SERVICE_PARAM } from "../request-schemas.js";
import { FAILOVER_BODY, FAILOVER_QUERY, LOCK_BODY, LOCK_QUERY } from "../write-input.js";
import {
  AcceptedAnswer,
  AlertmanagerAnswer,
  AllStatus,
  ErrorBody,
  FailoverAnswer,
  FluxEventAnswer,
  Health,
  History,
  LockAnswer,
  NodeAnswer,
  OperationAnswer,
  Readiness,
  ServiceList,
  ServiceStatus,
} from "./responses.js";

/** What each error status means here (src/http/error-response.ts maps codes to them). */
const ERROR_MEANING: Record<number, string> = {
  400: "invalid_input: a bad parameter or body, named in the message; nothing ran",
  401: "unauthorized: the route needs `Authorization: Bearer <token>` (FAILOVER_API_TOKENS)",
  403: "forbidden: the route needs FAILOVER_API_TOKENS to be set",
  404: "not_found: no such service, node or route",
  405: "method_not_allowed: see the Allow header",
  409: "conflict: the branch kept moving, or another request won; sending it again is safe",
  413: "invalid_input: the body is over the route's limit (4 KiB; the closed loop's routes more)",
  414: "invalid_input: the URL is over 2 KiB",
  415: "invalid_input: a body that is not JSON",
  422: "refused: the manifest cannot be moved safely (the message names file and field)",
  423: "locked: the service is locked (details.lock says by whom)",
  429: "rate_limited: too many requests from this client (Retry-After)",
  500: "internal: see the server log",
  502: "upstream: GitHub failed",
  503: "config_invalid: the services config cannot be used",
  504: "timeout: FAILOVER_BUDGET_MS ran out; the write may have landed (check the status)",
};

function errors(...statuses: number[]): ZodOpenApiResponsesObject {
  return Object.fromEntries(
    statuses.map((s) => [
      String(s),
      {
        description: ERROR_MEANING[s] ?? "error",
        content: { "application/json": { schema: ErrorBody } },
      },
    ]),
  );
}

const json = (description: string, schema: z.ZodType) => ({
  description,
  content: { "application/json": { schema } },
});

const READ_ERRORS = [401, 414, 429, 500, 502, 503, 504];
const WRITE_ERRORS = [400, 401, 404, 405, 409, 413, 414, 415, 422, 423, 429, 500, 502, 503, 504];
const failoverQuery = FAILOVER_QUERY;
const failoverBody = FAILOVER_BODY;

const accepted = {
  description: "?wait=false: accepted; the operation runs in the background",
  headers: z.object({
    Location: z.string().meta({ description: "`/api/operations/<id>`" }),
  }),
  content: { "application/json": { schema: AcceptedAnswer } },
};

const servicePath = z.object({ service: SERVICE_PARAM });
const nodePath = z.object({ node: NODE_PARAM });

function failoverWrite(
  verb: "promote" | "demote",
  scope: "service" | "node",
): ZodOpenApiOperationObject {
  const isNode = scope === "node";
  const moves = verb === "promote" ? "to its backup node and claim" : "back to its primary";
  return {
    operationId: `${verb}${isNode ? "Node" : "Service"}`,
    summary: isNode
      ? `${verb} every service whose primary is the node, in one commit`
      : `Move the service ${moves}`,
    requestParams: { path: isNode ? nodePath : servicePath, query: failoverQuery },
    requestBody: { required: false, content: { "application/json": { schema: failoverBody } } },
    responses: {
      "200": json("applied, no_op, dry_run or pr_*", isNode ? NodeAnswer : FailoverAnswer),
      "202": accepted,
      ...errors(...WRITE_ERRORS),
    },
  };
}

function dryRunRead(
  verb: "promote" | "demote",
  scope: "service" | "node",
): ZodOpenApiOperationObject {
  const { requestBody: _body, ...write } = failoverWrite(verb, scope);
  const { "202": _accepted, ...responses } = write.responses;
  return {
    ...write,
    // A dry run answers at once: `wait` does not apply.
    requestParams: { ...write.requestParams, query: failoverQuery.omit({ wait: true }) },
    responses,
    operationId: `${write.operationId}DryRun`,
    summary: "The same with ?dry-run=true: the plan and diff, nothing written (405 without it)",
  };
}

function lockWrite(verb: "lock" | "unlock"): ZodOpenApiOperationObject {
  return {
    operationId: `${verb}Service`,
    summary:
      verb === "lock"
        ? "Lock the service: failovers of it are refused (423)"
        : "Unlock the service",
    requestParams: { path: servicePath, query: LOCK_QUERY },
    requestBody: { required: false, content: { "application/json": { schema: LOCK_BODY } } },
    responses: { "200": json("locked, unlocked or no_op", LockAnswer), ...errors(...WRITE_ERRORS) },
  };
}

/** The OpenAPI 3.1 document of the HTTP API, from the zod schemas that parse requests and describe answers. */
export function openApiDocument(
  webhookPath = "/api/github/webhooks",
): ReturnType<typeof createDocument> {
  const historyQuery = z.object({
    limit: z
      .string()
      .regex(/^\d{1,3}$/)
      .optional()
      .meta({ description: "1..100, default 20" }),
  });
  const operationPath = z.object({
    id: z
      .string()
      .regex(OPERATION_ID)
      .meta({ description: "The operation id (a write's 202, an alert's `operation`)" }),
  });
  const signatureHeader = z.object({
    "x-signature": z.string().meta({
      description:
        "`sha256=<hex HMAC-SHA256 of the raw body with FLUX_EVENTS_SECRET>`; missing or wrong: 401",
    }),
  });
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "failover-api",
      version: "0.1.0",
      description:
        "Fails stateful Kubernetes apps over between nodes by changing Git. Writes need `Authorization: Bearer <token>` when FAILOVER_API_TOKENS is set. docs/http-api.md is generated from this document.",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    paths: {
      "/api/health": {
        get: {
          operationId: "health",
          summary: "Liveness: the process answers",
          responses: { "200": json("alive", Health) },
        },
      },
      "/api/ready": {
        get: {
          operationId: "ready",
          summary: "Readiness: config loaded, GitHub reachable (served by `serve`)",
          responses: { "200": json("ready", Readiness), "503": json("not ready", Readiness) },
        },
      },
      "/metrics": {
        get: {
          operationId: "metrics",
          summary: "Prometheus metrics (a token with FAILOVER_AUTH_METRICS)",
          responses: {
            "200": {
              description: "Prometheus text format",
              content: { "text/plain": { schema: z.string() } },
            },
            ...errors(401, 429),
          },
        },
      },
      "/api/services": {
        get: {
          operationId: "listServices",
          summary: "The configured services",
          responses: { "200": json("services", ServiceList), ...errors(401, 429) },
        },
      },
      "/api/status": {
        get: {
          operationId: "allStatus",
          summary: "Every service's state from one commit",
          responses: { "200": json("statuses", AllStatus), ...errors(...READ_ERRORS) },
        },
      },
      "/api/failover/{service}/status": {
        get: {
          operationId: "serviceStatus",
          summary: "One service's state at the branch head",
          requestParams: { path: servicePath },
          responses: {
            "200": json("status", ServiceStatus),
            ...errors(400, 404, 405, 422, ...READ_ERRORS),
          },
        },
      },
      "/api/failover/{service}/history": {
        get: {
          operationId: "serviceHistory",
          summary: "Past failovers of the service, newest first",
          requestParams: { path: servicePath, query: historyQuery },
          responses: { "200": json("history", History), ...errors(400, 404, 405, ...READ_ERRORS) },
        },
      },
      "/api/failover/{service}/promote": {
        post: failoverWrite("promote", "service"),
        get: dryRunRead("promote", "service"),
      },
      "/api/failover/{service}/demote": {
        post: failoverWrite("demote", "service"),
        get: dryRunRead("demote", "service"),
      },
      "/api/failover/{service}/lock": { post: lockWrite("lock") },
      "/api/failover/{service}/unlock": { post: lockWrite("unlock") },
      "/api/nodes/{node}/promote": {
        post: failoverWrite("promote", "node"),
        get: dryRunRead("promote", "node"),
      },
      "/api/nodes/{node}/demote": {
        post: failoverWrite("demote", "node"),
        get: dryRunRead("demote", "node"),
      },
      "/api/operations/{id}": {
        get: {
          operationId: "operation",
          summary:
            "A failover's phases with timestamps (requested, committed or pr_opened, merged, confirmed/failed/unconfirmed) and its services",
          requestParams: { path: operationPath },
          responses: {
            "200": json("the operation", OperationAnswer),
            ...errors(400, 401, 404, 405, 429, 500, 502, 504),
          },
        },
      },
      "/api/alertmanager": {
        post: {
          operationId: "alertmanager",
          summary:
            "Alertmanager webhook (payload version 4): a firing node-down alert starts a guarded node-wide promote of the services with auto_failover: true",
          security: [{ bearer: [] }],
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: alertmanagerPayloadSchema.meta({
                  id: "AlertmanagerPayload",
                  description:
                    "Alertmanager's webhook payload, version 4: the fields read (others are accepted and ignored).",
                }),
              },
            },
          },
          responses: {
            "200": json("every alert's outcome, a retry's the same", AlertmanagerAnswer),
            "503": json(
              "an alert failed (result `failed`): Alertmanager retries, and a retry writes no second commit; or config_invalid",
              z.union([AlertmanagerAnswer, ErrorBody]),
            ),
            ...errors(400, 401, 403, 413, 414, 500),
          },
        },
      },
      "/api/flux/events": {
        post: {
          operationId: "fluxEvent",
          summary:
            "Flux notification-controller events (a `generic-hmac` Provider): a Kustomization reconcile at or after a failover commit confirms it, an error event fails it",
          security: [],
          requestParams: { header: signatureHeader },
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: fluxEventSchema.meta({
                  id: "FluxEvent",
                  description:
                    "A notification-controller event: the fields read (others are accepted and ignored).",
                }),
              },
            },
          },
          responses: {
            "202": json("accepted; the operations it settled", FluxEventAnswer),
            ...errors(400, 401, 413, 414, 500, 502, 504),
          },
        },
      },
      [webhookPath]: {
        post: {
          operationId: "githubWebhook",
          summary:
            "GitHub App webhooks: ChatOps comments, workflow and repository dispatches, pushes, and the commit `status` events of Flux's `github` Provider that confirm a failover (GitHub App mode; signed with WEBHOOK_SECRET, no token)",
          responses: {
            "200": { description: "accepted", content: { "text/plain": { schema: z.string() } } },
            "400": {
              description: "missing or invalid signature or headers",
              content: { "text/plain": { schema: z.string() } },
            },
          },
        },
      },
      "/openapi.json": {
        get: {
          operationId: "openApi",
          summary: "This document",
          responses: {
            "200": {
              description: "OpenAPI 3.1",
              content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
            },
          },
        },
      },
      "/": {
        get: {
          operationId: "webPage",
          summary: "The web page (docs/web.md); with tokens, a sign-in form first",
          responses: {
            "200": { description: "HTML", content: { "text/html": { schema: z.string() } } },
          },
        },
      },
    },
    security: [{ bearer: [] }, {}],
  });
}
