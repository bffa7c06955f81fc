import type { Response } from "express";

/** `?wait=false`: the write routes answer at once and the caller follows the operation. */
export function wantsNoWait(query: unknown): boolean {
  const wait = (query as Record<string, unknown> | undefined)?.wait;
  return typeof wait === "string" && /^(false|0|no)$/i.test(wait);
}

export function operationPath(id: string): string {
  return `/api/operations/${encodeURIComponent(id)}`;
}

/**
 * The 202 answer of a write run in the background: `Location` names the operation, which
 * GET /api/operations/<id> shows from `requested` to confirmed, failed or unconfirmed.
 */
export function answerAccepted(res: Response, id: string): void {
  res
    .status(202)
    .location(operationPath(id))
    .json({ operation: id, status: "requested", location: operationPath(id) });
}
