import { randomUUID } from "node:crypto";
import type { Request } from "express";
import type { Command, CommandOrigin } from "../domain/commands/command.js";
import { FailoverError } from "../domain/errors.js";
import { currentRequest } from "../observability/request-context.js";
import {
  parseAction,
  parseLimit,
  parseNodeParam,
  parseServiceParam,
  parseVerb,
} from "./request-schemas.js";
import { parseFailoverInput, parseLockInput } from "./write-input.js";

/**
 * The HTTP transport's parser: a request to one of the API's command routes as a Command.
 * Every input is validated (zod, strictly: an unknown or misspelt parameter is a 400 before
 * anything runs), and a method that does not fit the verb is a 405 naming the right one.
 */
export function commandFromRequest(req: Request): Command {
  return httpCommand(req).command;
}

/**
 * The command and how to answer it: `wait` false (`?wait=false` on a failover) answers 202
 * with the operation as soon as it is planned, and the failover goes on in the background.
 */
export function httpCommand(req: Request): { readonly command: Command; readonly wait: boolean } {
  const origin = originOf(req);
  const method = req.method === "HEAD" ? "GET" : req.method;
  if (req.params.node !== undefined) {
    const node = parseNodeParam(req.params.node);
    const action = parseAction(req.params.verb);
    if (method !== "GET" && method !== "POST") {
      throw methodNotAllowed("POST", `use POST /api/nodes/${node}/${action}`);
    }
    const { dryRun, mode, wait, acceptDataLoss } = parseFailoverInput(req);
    if (method === "GET" && !dryRun) {
      throw methodNotAllowed(
        "POST",
        `a node-wide ${action} changes Git: use POST /api/nodes/${node}/${action}, or GET with ?dry-run=true to preview it`,
      );
    }
    // `node` may be a Kubernetes node name of services.yaml's `nodes:` map or a placement
    // value: runCommand resolves it for every transport.
    return {
      command: { ...origin, kind: "node_failover", node, action, dryRun, mode, acceptDataLoss },
      wait,
    };
  }
  const service = parseServiceParam(req.params.service);
  const verb = parseVerb(req.params.verb);
  if (verb === "status" || verb === "history") {
    if (method !== "GET") throw methodNotAllowed("GET", `GET /api/failover/${service}/${verb}`);
    return {
      command:
        verb === "status"
          ? { ...origin, kind: "status", service }
          : { ...origin, kind: "history", service, limit: parseLimit(req.query) },
      wait: true,
    };
  }
  if (verb === "lock" || verb === "unlock") {
    if (method !== "POST") throw methodNotAllowed("POST", `POST /api/failover/${service}/${verb}`);
    const { reason } = parseLockInput(req);
    return {
      command:
        verb === "lock"
          ? { ...origin, kind: "lock", service, reason }
          : { ...origin, kind: "unlock", service },
      wait: true,
    };
  }
  if (method !== "GET" && method !== "POST") {
    throw methodNotAllowed("POST", `use POST /api/failover/${service}/${verb}`);
  }
  const { dryRun, mode, wait, acceptDataLoss } = parseFailoverInput(req);
  if (method === "GET" && !dryRun) {
    throw methodNotAllowed(
      "POST",
      `a ${verb} changes Git: use POST /api/failover/${service}/${verb}, or GET with ?dry-run=true to preview it`,
    );
  }
  return {
    command: { ...origin, kind: "failover", service, action: verb, dryRun, mode, acceptDataLoss },
    wait,
  };
}

/** `token <name>` when a named API token authenticated the request, else the client address. */
export function originOf(req: Request): CommandOrigin {
  return {
    trigger: "http",
    requester: currentRequest()?.requester ?? `http ${req.ip ?? "unknown"}`,
    // Our own id, not the client's X-Request-Id (which the request's log lines carry): two
    // requests sharing a client id must never share a commit trailer.
    requestId: randomUUID(),
  };
}

function methodNotAllowed(allow: string, hint: string): FailoverError {
  return new FailoverError("method_not_allowed", hint, { details: { allow } });
}
