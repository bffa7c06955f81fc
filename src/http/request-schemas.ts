import { z } from "zod";
import { SERVICE_NAME } from "../config/services-schema.js";
import { FailoverError } from "../domain/errors.js";

const TRUE = new Set(["", "true", "1", "yes"]);
const FALSE = new Set(["false", "0", "no"]);

/** `?dry-run=true` as the seed writes it; `dry_run` too. A bare `?dry-run` means true. */
export function parseDryRun(query: Record<string, unknown>): boolean {
  const keys = ["dry-run", "dry_run"].filter((k) => query[k] !== undefined);
  if (keys.length === 0) return false;
  const raw = keys.length === 1 ? query[keys[0] as string] : undefined;
  if (typeof raw !== "string") {
    throw new FailoverError(
      "invalid_input",
      "give dry-run once, as ?dry-run=true or ?dry-run=false",
    );
  }
  const value = raw.toLowerCase();
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new FailoverError(
    "invalid_input",
    `dry-run must be true or false, not "${raw.slice(0, 40)}"`,
  );
}

const serviceParam = z.string().max(63).regex(SERVICE_NAME);

export function parseServiceParam(raw: unknown): string {
  const result = serviceParam.safeParse(raw);
  if (!result.success) {
    throw new FailoverError(
      "invalid_input",
      "service names are lowercase DNS labels (a-z, 0-9, -, at most 63 characters)",
    );
  }
  return result.data;
}

export const FAILOVER_VERBS = ["promote", "demote", "status", "history", "lock", "unlock"] as const;

export function parseVerb(raw: unknown): (typeof FAILOVER_VERBS)[number] {
  const result = z.enum(FAILOVER_VERBS).safeParse(raw);
  if (!result.success) {
    throw new FailoverError(
      "invalid_input",
      `unknown action "${String(raw).slice(0, 40)}": use ${FAILOVER_VERBS.join(", ")}`,
      { details: { allowed: FAILOVER_VERBS } },
    );
  }
  return result.data;
}

/** `?mode=urgent|pr` overrides the configured mode for one request. */
export function parseMode(query: Record<string, unknown>): "urgent" | "pr" | undefined {
  const raw = query.mode;
  if (raw === undefined) return undefined;
  if (raw === "urgent" || raw === "pr") return raw;
  throw new FailoverError("invalid_input", "mode must be urgent or pr");
}

/** A node as configured in primary_node_label: a Kubernetes label value. */
const nodeParam = z
  .string()
  .max(63)
  .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);

export function parseNodeParam(raw: unknown): string {
  const result = nodeParam.safeParse(raw);
  if (!result.success) {
    throw new FailoverError(
      "invalid_input",
      "node names are Kubernetes label values (A-Z, a-z, 0-9, -, _, ., at most 63)",
    );
  }
  return result.data;
}

export function parseAction(raw: unknown): "promote" | "demote" {
  if (raw === "promote" || raw === "demote") return raw;
  throw new FailoverError(
    "invalid_input",
    `unknown action "${String(raw).slice(0, 40)}": use promote or demote`,
  );
}

/** `?limit=` for history: 1..100, default 20. */
export function parseLimit(query: Record<string, unknown>): number {
  const raw = query.limit;
  if (raw === undefined) return 20;
  const n = typeof raw === "string" && /^\d{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= 100))
    throw new FailoverError("invalid_input", "limit must be a number from 1 to 100");
  return n;
}

/** `?reason=` for a lock: free text, one line, at most 300 characters. */
export function parseReason(query: Record<string, unknown>): string {
  const raw = query.reason;
  if (raw === undefined) return "";
  if (typeof raw !== "string") throw new FailoverError("invalid_input", "give reason once");
  const printable = [...raw].map((c) =>
    c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? " " : c,
  );
  return printable.join("").trim().slice(0, 300);
}

/** The path parameters' schemas, for the OpenAPI document (src/http/openapi/document.ts). */
export { nodeParam as NODE_PARAM, serviceParam as SERVICE_PARAM };
