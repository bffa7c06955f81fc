import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { revisionSha } from "../domain/automation/flux-revision.js";

/** A notification-controller event as a `generic-hmac` Provider posts it (the fields read). */
export const fluxEventSchema = z.object({
  involvedObject: z.object({
    kind: z.string().min(1).max(100),
    name: z.string().min(1).max(253),
    namespace: z.string().min(1).max(253),
  }),
  severity: z.enum(["info", "error", "trace"]),
  timestamp: z.string().max(64).optional(),
  message: z.string().max(64 * 1024),
  reason: z.string().max(200),
  metadata: z.record(z.string().max(253), z.string().max(4096)).optional(),
  reportingController: z.string().max(200).optional(),
});
export type FluxEvent = z.infer<typeof fluxEventSchema>;

export const MAX_FLUX_EVENT_BYTES = 256 * 1024;

/**
 * Whether `header` (`X-Signature: sha256=<hex>`) is the HMAC-SHA256 of the raw body with
 * the shared secret; compared in constant time.
 */
export function verifyFluxSignature(
  body: Buffer,
  header: string | undefined,
  secret: string,
): boolean {
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header?.trim() ?? "");
  if (m?.[1] === undefined) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(m[1], "hex"));
}

/** One Kustomization reconcile as the confirmation reads it, from an event or a commit status. */
export interface KustomizationReport {
  readonly namespace: string | undefined;
  readonly name: string;
  /** The commit sha reconciled. */
  readonly revision: string;
  readonly outcome: "succeeded" | "failed";
  readonly message: string;
}

/**
 * What an event says about an apply, if anything: Kustomization events carrying a revision,
 * `ReconciliationSucceeded` for success (health checks passed when the Kustomization sets
 * `wait` or `healthChecks`), any error event for failure. Progress and source events say
 * nothing about whether the change was applied.
 */
export function reportOf(event: FluxEvent): KustomizationReport | undefined {
  if (event.involvedObject.kind !== "Kustomization") return undefined;
  const meta = event.metadata ?? {};
  const revision = revisionSha(meta.revision ?? meta["kustomize.toolkit.fluxcd.io/revision"]);
  if (revision === undefined) return undefined;
  const outcome =
    event.severity === "error"
      ? "failed"
      : event.reason === "ReconciliationSucceeded"
        ? "succeeded"
        : undefined;
  if (outcome === undefined) return undefined;
  return {
    namespace: event.involvedObject.namespace,
    name: event.involvedObject.name,
    revision,
    outcome,
    message: event.message.slice(0, 1000),
  };
}
