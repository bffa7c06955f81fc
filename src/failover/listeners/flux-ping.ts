import type { BranchChange } from "../context.js";
import type { FailoverListener } from "../events.js";

/**
 * After a commit landed on the branch (urgent, or a merged PR): ask Flux to reconcile now,
 * once per commit. The ping logs and counts its own failures.
 */
export function fluxPingListener(ping: (change: BranchChange) => Promise<void>): FailoverListener {
  return async (event) => {
    if (event.type !== "committed") return;
    const [only] = event.services;
    await ping({
      service:
        event.node === undefined && only !== undefined && event.services.length === 1
          ? only.service
          : `node ${event.node ?? "?"}`,
      action: event.action,
      outcome: event.pullRequest === undefined ? "applied" : "pr_merged",
      commit: event.commit,
    });
  };
}
