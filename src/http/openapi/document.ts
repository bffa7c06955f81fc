import { z } from "zod";
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiResponsesObject,
} from "zod-openapi";
import { NODE_PARAM, SERVICE_PARAM } from "../request-schemas.js";
import { FAILOVER_BODY, FAILOVER_QUERY, LOCK_BODY, LOCK_QUERY } from "../write-input.js";
import {
  AllStatus,
  ErrorBody,
  FailoverAnswer,
  Health,
  History,
  LockAnswer,
  NodeAnswer,
  Readiness,
  ServiceList,
  ServiceStatus,
} from "./responses.js";

/** What each error status means here (src/http/error-response.ts maps codes to them). */
const ERROR_MEANING: Record<number, string> = {
  400: "invalid_input: a bad parameter or body, named in the message; nothing ran",
  401: "unauthorized: the route needs `Authorization: Bearer <token>` (FAILOVER_API_TOKENS)",
  404: "not_found: no such service, node or route",
  405: "method_not_allowed: see the Allow header",
  409: "conflict: the branch kept moving, or another request won; sending it again is safe",
  413: "invalid_input: the body is over 4 KiB",
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
    requestParams: { path: isNode ? nodePath : servicePath, query: FAILOVER_QUERY },
    requestBody: { required: false, content: { "application/json": { schema: FAILOVER_BODY } } },
    responses: {
      "200": json("applied, no_op, dry_run or pr_*", isNode ? NodeAnswer : FailoverAnswer),
      ...errors(...WRITE_ERRORS),
    },
  };
}

function dryRunRead(
  verb: "promote" | "demote",
  scope: "service" | "node",
): ZodOpenApiOperationObject {
  const { requestBody: _body, ...write } = failoverWrite(verb, scope);
  return {
    ...write,
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
      [webhookPath]: {
        post: {
          operationId: "githubWebhook",
          summary: "GitHub App webhooks (GitHub App mode; signed with WEBHOOK_SECRET, no token)",
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
