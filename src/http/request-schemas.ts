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

export const FAILOVER_VERBS = ["promote", "demote", "status"] as const;

export function parseVerb(raw: unknown): (typeof FAILOVER_VERBS)[number] {
  const result = z.enum(FAILOVER_VERBS).safeParse(raw);
  if (!result.success) {
    throw new FailoverError(
      "invalid_input",
      `unknown action "${String(raw).slice(0, 40)}": use promote, demote or status`,
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
