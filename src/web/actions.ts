import { randomUUID } from "node:crypto";
import type { Action } from "../domain/service.js";
import type { FailoverContext } from "../failover/context.js";
import type { HistoryItem } from "../failover/history.js";
import { runCommand } from "../failover/run-command.js";
import type { AllStatus } from "../failover/status-types.js";
import {
  type FailoverView,
  failoverView,
  type LockView,
  lockView,
  type NodeFailoverView,
  nodeFailoverView,
} from "../presenters/http-json.js";
import { InProgress } from "./in-progress.js";

/**
 * Every command the page gives, in one place: the same `runCommand` the HTTP API calls,
 * rendered with the API's own views, so the page shows what `curl` would.
 */
export class WebActions {
  readonly inProgress = new InProgress();
  /** Last failover per service, kept per branch head: history changes only when the head moves. */
  #lastFailover: { head: string; items: Map<string, HistoryItem | undefined> } | undefined;

  constructor(private readonly ctx: FailoverContext) {}

  async allStatus(): Promise<AllStatus> {
    const answer = await runCommand(this.ctx, {
      ...origin("web"),
      kind: "status",
      service: undefined,
    });
    if (answer.kind !== "all_status") throw new Error("status of all services expected");
    return answer.status;
  }

  async lastFailovers(status: AllStatus): Promise<ReadonlyMap<string, HistoryItem | undefined>> {
    if (this.#lastFailover?.head !== status.head) {
      this.#lastFailover = { head: status.head, items: new Map() };
    }
    const known = this.#lastFailover.items;
    for (const s of status.services) {
      if (known.has(s.service)) continue;
      const items = await runCommand(this.ctx, {
        ...origin("web"),
        kind: "history",
        service: s.service,
        limit: 1,
      }).then(
        (answer) => answer.items,
        () => [],
      );
      known.set(s.service, items[0]);
    }
    return known;
  }

  async failover(request: {
    service: string;
    action: Action;
    dryRun: boolean;
    requester: string;
  }): Promise<FailoverView> {
    const run = async () => {
      const answer = await runCommand(this.ctx, {
        ...origin(request.requester),
        kind: "failover",
        service: request.service,
        action: request.action,
        dryRun: request.dryRun,
        mode: undefined,
      });
      return failoverView(answer.result);
    };
    if (request.dryRun) return run();
    return this.inProgress.track(`${request.action} ${request.service}`, request.requester, run);
  }

  async nodeFailover(request: {
    node: string;
    action: Action;
    dryRun: boolean;
    requester: string;
  }): Promise<NodeFailoverView> {
    const run = async () => {
      const answer = await runCommand(this.ctx, {
        ...origin(request.requester),
        kind: "node_failover",
        node: request.node,
        action: request.action,
        dryRun: request.dryRun,
        mode: undefined,
      });
      return nodeFailoverView(answer.result);
    };
    if (request.dryRun) return run();
    return this.inProgress.track(`${request.action} node ${request.node}`, request.requester, run);
  }

  lock(request: {
    service: string;
    lock: boolean;
    reason: string;
    requester: string;
  }): Promise<LockView> {
    return this.inProgress.track(
      `${request.lock ? "lock" : "unlock"} ${request.service}`,
      request.requester,
      async () => {
        const answer = await runCommand(
          this.ctx,
          request.lock
            ? {
                ...origin(request.requester),
                kind: "lock",
                service: request.service,
                reason: request.reason,
              }
            : { ...origin(request.requester), kind: "unlock", service: request.service },
        );
        return lockView(request.service, answer.result);
      },
    );
  }
}

/** The page is an HTTP client of the same commands (trigger `http`), with its own request id. */
function origin(requester: string) {
  return { trigger: "http" as const, requester, requestId: randomUUID() };
}
