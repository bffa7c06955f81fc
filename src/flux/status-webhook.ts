import { z } from "zod";
import type { FluxConfirmation } from "./confirmation.js";

/** The fields of GitHub's `status` webhook the confirmation reads. */
const statusPayload = z.object({
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  state: z.enum(["pending", "success", "failure", "error"]),
  context: z.string().max(1024),
  description: z.string().max(4096).nullable().optional(),
});

/** Flux's `github` Provider: `kustomization/<name>/<uid prefix>`. */
const FLUX_CONTEXT = /^kustomization\/([^/]+)\/[^/]+$/;

/**
 * A Probot handler for `status` events: Flux's github Provider posts a commit status per
 * Kustomization reconcile (success, failure). Register with `app.on("status", handler)`.
 * Other statuses (CI) and `pending` are ignored.
 */
export function fluxStatusHandler(
  confirmation: FluxConfirmation,
): (context: { payload: unknown }) => Promise<void> {
  return async (context) => {
    const parsed = statusPayload.safeParse(context.payload);
    if (!parsed.success) return;
    const name = FLUX_CONTEXT.exec(parsed.data.context)?.[1];
    const { state } = parsed.data;
    if (name === undefined || state === "pending") return;
    await confirmation.report({
      namespace: undefined,
      name,
      revision: parsed.data.sha,
      outcome: state === "success" ? "succeeded" : "failed",
      message: parsed.data.description ?? state,
    });
  };
}
