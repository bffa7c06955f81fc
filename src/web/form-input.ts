import type { Request } from "express";
import { z } from "zod";
import { FailoverError } from "../domain/errors.js";
import { requestBody } from "../http/request-limits.js";

/**
 * The page's form posts (application/x-www-form-urlencoded, as htmx and a plain form send
 * them), validated strictly: an unknown or repeated field is refused before anything runs.
 */
export const FORMS = {
  signIn: z.object({ token: z.string().min(1, "give the API token").max(1000) }),
  signOut: z.object({ csrf: z.string().max(200).optional() }),
  confirm: z.object({ confirm: z.string().max(100) }),
  lock: z.object({ reason: z.string().max(300, "a reason is at most 300 characters").optional() }),
  none: z.object({}),
} as const;

export const ACTION_QUERY = z.object({ action: z.enum(["promote", "demote"]) });

export function parseForm<S extends z.ZodObject>(req: Request, schema: S): z.infer<S> {
  const raw = requestBody(req);
  const fields: Record<string, string> = {};
  if (raw !== undefined && raw.length > 0) {
    if (req.is("application/x-www-form-urlencoded") === false) {
      throw new FailoverError(
        "invalid_input",
        "the page posts forms (application/x-www-form-urlencoded)",
      );
    }
    for (const [key, value] of new URLSearchParams(raw.toString("utf8"))) {
      if (key in fields) throw new FailoverError("invalid_input", `give ${key.slice(0, 40)} once`);
      fields[key] = value;
    }
  }
  const result = schema.strict().safeParse(fields);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new FailoverError("invalid_input", issue?.message ?? "invalid form", {
      details: { field: issue?.path.join(".") },
    });
  }
  return result.data as z.infer<S>;
}

export function parseActionQuery(query: unknown): "promote" | "demote" {
  const result = ACTION_QUERY.safeParse(query);
  if (!result.success) throw new FailoverError("invalid_input", "action must be promote or demote");
  return result.data.action;
}
