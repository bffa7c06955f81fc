import { z } from "zod";

/** Only the webhook payload fields the app reads (the rest is GitHub's business). */
const repository = z.object({
  name: z.string(),
  full_name: z.string(),
  owner: z.object({ login: z.string() }),
});
const sender = z.object({ login: z.string(), type: z.string() });

export const issueCommentPayload = z.object({
  action: z.string(),
  comment: z.object({
    id: z.number(),
    body: z
      .string()
      .nullable()
      .transform((b) => b ?? ""),
    user: z.object({ login: z.string(), type: z.string() }).nullable(),
    performed_via_github_app: z.object({ id: z.number() }).nullable().optional(),
  }),
  issue: z.object({ number: z.number() }),
  repository,
  sender,
});
export type IssueCommentPayload = z.infer<typeof issueCommentPayload>;

/** Workflow inputs arrive as sent: booleans may be the strings "true"/"false". */
const booleanish = z
  .union([z.boolean(), z.enum(["true", "false"])])
  .optional()
  .transform((v) => v === true || v === "true");

export const failoverInputs = z.object({
  service: z.string().min(1).max(63),
  action: z.enum(["promote", "demote", "status"]),
  dry_run: booleanish,
  mode: z
    .enum(["default", "urgent", "pr"])
    .optional()
    .transform((m) => (m === "default" ? undefined : m)),
});
export type FailoverInputs = z.infer<typeof failoverInputs>;

export const workflowDispatchPayload = z.object({
  workflow: z.string(),
  ref: z.string(),
  inputs: z.record(z.string(), z.unknown()).nullable(),
  repository,
  sender,
});

export const repositoryDispatchPayload = z.object({
  action: z.string(),
  client_payload: z.record(z.string(), z.unknown()).nullable(),
  repository,
  sender,
});

/** `push`: which branch of which repository moved, and to what (all zeros: deleted). */
export const pushPayload = z.object({
  ref: z.string(),
  after: z.string().regex(/^[0-9a-fA-F]{40}$/),
  deleted: z.boolean().optional(),
  repository: z.object({ full_name: z.string() }),
});
