import type { Action } from "../domain/service.js";
import type { FailoverContext } from "../failover/context.js";
import { executeFailover, executeNodeFailover } from "../failover/execute-failover.js";
import { getHistory, type HistoryItem } from "../failover/history.js";
import { setLock } from "../failover/locks.js";
import { type AllStatus, getAllStatus } from "../failover/status.js";
import { renderFailoverResult, renderLockResult, renderNodeResult } from "../http/render-result.js";
import { InProgress } from "./in-progress.js";

/**
 * Every use case the page calls, in one place: the same ones the HTTP API calls, rendered
 * with the API's own renderers, so the page shows what `curl` would.
 */
export class WebActions {
  readonly inProgress = new InProgress();
  /** Last failover per service, kept per branch head: history changes only when the head moves. */
  #lastFailover: { head: string; items: Map<string, HistoryItem | undefined> } | undefined;

  constructor(private readonly ctx: FailoverContext) {}

  allStatus(): Promise<AllStatus> {
    return getAllStatus(this.ctx);
  }

  async lastFailovers(status: AllStatus): Promise<ReadonlyMap<string, HistoryItem | undefined>> {
    if (this.#lastFailover?.head !== status.head) {
      this.#lastFailover = { head: status.head, items: new Map() };
    }
    const known = this.#lastFailover.items;
    for (const s of status.services) {
      if (known.has(s.service)) continue;
      const items = await getHistory(this.ctx, s.service, 1).catch(() => []);
      known.set(s.service, items[0]);
    }
    return known;
  }

  async failover(request: {
    service: string;
    action: Action;
    dryRun: boolean;
    requester: string;
  }): Promise<Record<string, unknown>> {
    const run = () =>
      executeFailover(this.ctx, { ...request, trigger: "http" }).then(({ result, audit }) => ({
        ...renderFailoverResult(result),
        ...(audit === undefined ? {} : { deployment: audit }),
      }));
    if (request.dryRun) return run();
    return this.inProgress.track(`${request.action} ${request.service}`, request.requester, run);
  }

  async nodeFailover(request: {
    node: string;
    action: Action;
    dryRun: boolean;
    requester: string;
  }): Promise<Record<string, unknown>> {
    const run = () =>
      executeNodeFailover(this.ctx, { ...request, trigger: "http" }).then(renderNodeResult);
    if (request.dryRun) return run();
    return this.inProgress.track(`${request.action} node ${request.node}`, request.requester, run);
  }

  lock(request: {
    service: string;
    lock: boolean;
    reason: string;
    requester: string;
  }): Promise<Record<string, unknown>> {
    return this.inProgress.track(
      `${request.lock ? "lock" : "unlock"} ${request.service}`,
      request.requester,
      async () => renderLockResult(request.service, await setLock(this.ctx, request)),
    );
  }
}
