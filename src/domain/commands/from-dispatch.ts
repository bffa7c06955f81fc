import { z } from "zod";
import { SERVICE_NAME } from "../command.js";
import type { Command, CommandOrigin } from "./command.js";

/** Workflow inputs arrive as sent: booleans may be the strings "true"/"false". */
const booleanish = z
  .union([z.boolean(), z.enum(["true", "false"])])
  .optional()
  .transform((v) => v === true || v === "true");

/**
 * The inputs of the failover workflow (`workflow_dispatch`) and the `client_payload` of a
 * `repository_dispatch` of type `failover`: `{service, action, dry_run, mode, accept_data_loss}`.
 */
// Strict: a misspelt input (`dry-run`) is refused, never dropped into a real promote.
export const dispatchInputs = z.strictObject({
  service: z.string().min(1).max(63).regex(SERVICE_NAME),
  action: z.enum(["promote", "demote", "status"]),
  dry_run: booleanish,
  /** Promote even onto a backup copy older than the service's `max_rpo`. */
  accept_data_loss: booleanish,
  mode: z
    .enum(["default", "urgent", "pr"])
    .optional()
    .transform((m) => (m === "default" ? undefined : m)),
});
export type DispatchInputs = z.infer<typeof dispatchInputs>;

/**
 * A dispatch's inputs as a Command, or null when they are not a failover request (the
 * dispatch is then ignored with a warning: there is nobody to answer). Pure.
 */
export function commandFromDispatch(raw: unknown, origin: CommandOrigin): Command | null {
  const inputs = dispatchInputs.safeParse(raw ?? {});
  if (!inputs.success) return null;
  const { service, action, dry_run: dryRun, mode, accept_data_loss: acceptDataLoss } = inputs.data;
  if (action === "status") return { ...origin, kind: "status", service };
  return { ...origin, kind: "failover", service, action, dryRun, mode, acceptDataLoss };
}

/** What a delivery id may be to name a request: a commit trailer value, searchable in Git. */
const DELIVERY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * The request id of a dispatch: its webhook delivery id (`X-GitHub-Delivery`), which GitHub
 * keeps for every delivery of the event, "Redeliver" included. So a redelivered dispatch
 * names the same request, and finding its `Failover-Request` trailer in Git tells that it
 * was handled. undefined when the id could not be a trailer (nothing runs then). Pure.
 */
export function dispatchRequestId(deliveryId: string): string | undefined {
  return DELIVERY_ID.test(deliveryId) ? deliveryId : undefined;
}
