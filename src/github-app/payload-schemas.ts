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

/** The dispatch inputs themselves are a command: domain/commands/from-dispatch.ts. */
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
