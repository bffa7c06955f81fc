import type { Response } from "express";
import type { CommandOf } from "../domain/commands/command.js";
import type { FailoverContext } from "../failover/context.js";
import { runCommand } from "../failover/run-command.js";

export function operationPath(id: string): string {
  return `/api/operations/${encodeURIComponent(id)}`;
}

/**
 * The 202 answer of a write run in the background: `Location` names the operation, which
 * GET /api/operations/<id> shows from `requested` to a final phase: confirmed, failed or
 * unconfirmed after a commit, `no_op` when there was nothing to change, refused or failed.
 */
export function answerAccepted(res: Response, id: string): void {
  res
    .status(202)
    .location(operationPath(id))
    .json({ operation: id, status: "requested", location: operationPath(id) });
}

/**
 * Starts a failover whose answer does not wait for it (`?wait=false`). Resolves once the
 * operation is known: its `planned` event has been handed to every listener, and the
 * operation store, subscribed at the composition root before any request, took it first
 * (listeners run in the order they subscribed), so GET /api/operations/<id> finds it as soon
 * as the 202 is out. Rejects when the command fails before that (unknown service, locked,
 * refused by the RPO gate: nothing written), so the caller answers the usual 4xx. The rest
 * runs in the runtime's background queue, which SIGTERM drains.
 * Returns false when the context has no events or no background queue: answer when it ends.
 */
export async function startWithoutWaiting(
  ctx: FailoverContext,
  command: CommandOf<"failover" | "node_failover">,
): Promise<boolean> {
  const { events, background } = ctx;
  if (events === undefined || background === undefined) return false;
  let off: () => void = () => undefined;
  const planned = new Promise<void>((resolve) => {
    off = events.on((event) => {
      if (event.operation === command.requestId && event.type === "planned") resolve();
    });
  });
  const running = runCommand(ctx, command);
  // Its failures are the pipeline's events (refused, failed): the log line, the operation.
  background.run(`failover ${command.requestId} (wait=false)`, () =>
    running.then(
      () => off(),
      () => off(),
    ),
  );
  await Promise.race([planned, running]);
  return true;
}
