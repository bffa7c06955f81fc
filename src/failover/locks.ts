import { FailoverError, StaleHeadError } from "../domain/errors.js";
import { describeLock, type Lock, lockFromFile, lockPath, renderLock } from "../domain/lock.js";
import type { LockOutcome } from "../domain/outcome.js";
import type { CommitResult } from "../repo/port.js";
import type { FailoverContext } from "./context.js";
import { findService } from "./find-service.js";

export interface LockRequest {
  readonly service: string;
  readonly lock: boolean;
  readonly reason: string;
  readonly requester: string;
  readonly now?: Date;
}

export type LockResult =
  | {
      readonly outcome: Extract<LockOutcome, "locked" | "unlocked">;
      readonly lock: Lock;
      readonly commit: CommitResult;
    }
  | { readonly outcome: Extract<LockOutcome, "no_op">; readonly lock: Lock | undefined };

/**
 * Takes or releases a service's lock with one compare-and-swap commit of its lock file: two
 * replicas (or people) racing for it cannot both win, the loser re-reads and sees the lock.
 */
export async function setLock(ctx: FailoverContext, request: LockRequest): Promise<LockResult> {
  const spec = findService(ctx, request.service);
  const path = lockPath(spec.name);
  const branch = await ctx.branch();
  for (let attempt = 1; attempt <= ctx.maxAttempts; attempt++) {
    const snapshot = await ctx.repo.read(branch, [path]);
    // A lock file that cannot be read (binary, too large) locks failovers, so unlock must
    // be able to rewrite it: it counts as a broken lock here too.
    const current = lockFromFile(
      spec.name,
      snapshot.files.get(path),
      snapshot.unreadable?.get(path),
    );
    // A broken lock file locks; locking or unlocking rewrites it as a valid one.
    if (request.lock && current !== undefined && current.problem === undefined) {
      if (current.by === request.requester) return { outcome: "no_op", lock: current };
      throw new FailoverError("locked", `${describeLock(current)}; it must be unlocked first`, {
        details: { lock: current },
      });
    }
    if (!request.lock && current === undefined) return { outcome: "no_op", lock: undefined };
    const lock: Lock = {
      service: spec.name,
      by: request.requester,
      reason: request.reason.slice(0, 300),
      at: (request.now ?? new Date()).toISOString(),
    };
    const verb = request.lock ? "lock" : "unlock";
    try {
      const commit = await ctx.repo.commit({
        branch,
        expectedHead: snapshot.head,
        message: `failover(${spec.name}): ${verb}${lock.reason === "" ? "" : `: ${lock.reason.split("\n")[0]}`}\n\nFailover-Lock: ${verb}\nFailover-Service: ${spec.name}\nFailover-Requester: ${lock.by.replace(/[\r\n]/g, " ")}\n`,
        changes: [{ path, text: renderLock({ ...lock, locked: request.lock }) }],
      });
      ctx.statusCache?.moved(branch, commit.sha);
      return { outcome: request.lock ? "locked" : "unlocked", lock, commit };
    } catch (error) {
      if (!(error instanceof StaleHeadError)) throw error;
    }
  }
  throw new FailoverError("conflict", "the branch kept moving; try again");
}
