import type { Request } from "express";
import { z } from "zod";
import { FailoverError } from "../domain/errors.js";
import { didYouMean } from "./did-you-mean.js";
import { requestBody } from "./request-limits.js";
import { parseDryRun, parseMode, parseReason } from "./request-schemas.js";

/**
 * The input of a route that can write (promote/demote of a service or a node, lock/unlock):
 * the query, or a JSON body (what a Home Assistant `payload:` sends), validated strictly.
 * An unknown or repeated parameter, an unknown body field, malformed JSON, a non-JSON body
 * or a query and a body that disagree are refused before anything runs: a misspelled
 * `dry-run` must never become a real failover.
 */

/** A query value given once (the query parser makes an array of a repeated parameter). */
const once = (name: string) =>
  z
    .string({
      error: (issue) =>
        Array.isArray(issue.input)
          ? `give ${name} once`
          : `${name} must be a single value, as ?${name}=...`,
    })
    .optional();

const QUERY = {
  failover: z.object({
    "dry-run": once("dry-run"),
    dry_run: once("dry_run"),
    mode: once("mode"),
    wait: once("wait"),
    accept_data_loss: once("accept_data_loss"),
  }),
  lock: z.object({ reason: once("reason") }),
} as const;

const BODY = {
  failover: z.object({
    dry_run: z.boolean({ error: "dry_run must be true or false (a JSON boolean)" }).optional(),
    mode: z.enum(["urgent", "pr"], { error: 'mode must be "urgent" or "pr"' }).optional(),
    wait: z.boolean({ error: "wait must be true or false (a JSON boolean)" }).optional(),
    accept_data_loss: z
      .boolean({ error: "accept_data_loss must be true or false (a JSON boolean)" })
      .optional(),
  }),
  lock: z.object({
    reason: z.string({ error: "reason must be a string" }).max(300).optional(),
  }),
} as const;

/** Words people use for a dry run. */
const DRY_RUN_SYNONYMS = ["preview", "simulate", "whatif", "plan", "test", "noop", "check"];

export type WriteRoute = keyof typeof QUERY;

/** 415 as body-parser raises it: jsonErrorHandler answers `invalid_input` with this status. */
class UnsupportedMediaType extends Error {
  readonly status = 415;
  readonly type = "unsupported_media_type";
}

export interface FailoverInput {
  readonly dryRun: boolean;
  readonly mode: "urgent" | "pr" | undefined;
  /** false (`?wait=false`): answer 202 with the operation at once; the failover goes on. */
  readonly wait: boolean;
  /** `accept_data_loss=true`: promote even onto a backup copy older than `max_rpo`. */
  readonly acceptDataLoss: boolean;
}

/**
 * `?dry-run=`, `?mode=`, `?wait=`, `?accept_data_loss=` or the same as a JSON body
 * (`{"dry_run": true, "mode": "pr", "wait": false, "accept_data_loss": true}`).
 */
export function parseFailoverInput(req: Request): FailoverInput {
  const query = strictly(QUERY.failover, req.query, "query parameter");
  const body = strictly(BODY.failover, readJsonBody(req), "body field");
  const fromQuery =
    query["dry-run"] === undefined && query.dry_run === undefined ? undefined : parseDryRun(query);
  return {
    dryRun: agree("dry-run", fromQuery, body.dry_run) ?? false,
    mode: agree("mode", parseMode(query), body.mode),
    wait: agree("wait", strictBoolean("wait", query.wait), body.wait) ?? true,
    acceptDataLoss:
      agree(
        "accept_data_loss",
        strictBoolean("accept_data_loss", query.accept_data_loss),
        body.accept_data_loss,
      ) ?? false,
  };
}

/**
 * `true` or `false`, exactly: these two change what a write does (answer before it ends,
 * accept data loss), so no `1`, `yes` or bare flag is guessed at.
 */
function strictBoolean(name: string, raw: string | undefined): boolean | undefined {
  if (raw === undefined) return undefined;
  if (raw === "true") return true;
  if (raw === "false") return false;
  throw new FailoverError(
    "invalid_input",
    `${name} must be true or false, not ${JSON.stringify(raw.slice(0, 40))}`,
    { details: { field: name } },
  );
}

/** `?reason=` or `{"reason": "..."}` for lock/unlock. */
export function parseLockInput(req: Request): { readonly reason: string } {
  const query = strictly(QUERY.lock, req.query, "query parameter");
  const body = strictly(BODY.lock, readJsonBody(req), "body field");
  const fromQuery = query.reason === undefined ? undefined : parseReason(query);
  const fromBody = body.reason === undefined ? undefined : parseReason(body);
  return { reason: agree("reason", fromQuery, fromBody) ?? "" };
}

function agree<T>(name: string, fromQuery: T | undefined, fromBody: T | undefined): T | undefined {
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
    throw new FailoverError(
      "invalid_input",
      `${name} is given in the query and in the body with different values; give it once`,
    );
  }
  return fromQuery ?? fromBody;
}

function strictly<S extends z.ZodObject>(
  schema: S,
  input: unknown,
  what: "query parameter" | "body field",
): z.infer<S> {
  const result = schema.strict().safeParse(input);
  if (result.success) return result.data as z.infer<S>;
  const accepted = Object.keys(schema.shape);
  const unknown = result.error.issues.find((i) => i.code === "unrecognized_keys");
  if (unknown !== undefined && unknown.code === "unrecognized_keys") {
    const name = unknown.keys[0] ?? "";
    const dryRun = accepted.find((a) => a.startsWith("dry"));
    const suggestion = didYouMean(
      name,
      accepted,
      dryRun === undefined ? {} : Object.fromEntries(DRY_RUN_SYNONYMS.map((w) => [w, dryRun])),
    );
    const shown = JSON.stringify(name.slice(0, 40));
    throw new FailoverError(
      "invalid_input",
      `unknown ${what} ${shown}${suggestion === undefined ? "" : `; did you mean "${suggestion}"?`} (accepted: ${accepted.join(", ") || "none"})`,
      {
        details: {
          unknown: unknown.keys.map((k) => k.slice(0, 40)),
          ...(suggestion === undefined ? {} : { suggestion }),
          accepted,
        },
      },
    );
  }
  const issue = result.error.issues[0];
  throw new FailoverError("invalid_input", issue?.message ?? `invalid ${what}`, {
    details: { field: issue?.path.join(".") },
  });
}

/**
 * The body as a JSON object; `{}` when there is none. The bytes were read (at most 4 KiB) by
 * bodyLimit, so nothing here waits on the client.
 */
function readJsonBody(req: Request): unknown {
  const raw = requestBody(req);
  if (raw === undefined || raw.length === 0) return {};
  if (req.get("content-type") === undefined || req.is(["application/json", "+json"]) === false) {
    throw new UnsupportedMediaType(
      "a request body must be JSON, sent with Content-Type: application/json (or send none and use the query)",
    );
  }
  const charset = /;\s*charset="?([^";\s]+)/i.exec(req.get("content-type") ?? "")?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new UnsupportedMediaType(`a JSON body must be UTF-8, not ${charset.slice(0, 20)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch (error) {
    throw new FailoverError(
      "invalid_input",
      `the request body is not valid JSON: ${error instanceof Error ? error.message.slice(0, 100) : "unreadable"}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FailoverError("invalid_input", "the request body must be a JSON object");
  }
  return value;
}

/** The write routes' schemas, for the OpenAPI document (src/http/openapi/document.ts). */
export const FAILOVER_QUERY = QUERY.failover;
export const FAILOVER_BODY = BODY.failover;
export const LOCK_QUERY = QUERY.lock;
export const LOCK_BODY = BODY.lock;
