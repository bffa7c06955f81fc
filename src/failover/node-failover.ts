import { randomUUID } from "node:crypto";
import { failoverCommitMessage } from "../domain/commit-message.js";
import { FailoverError, StaleHeadError } from "../domain/errors.js";
import { describeLock } from "../domain/lock.js";
import type { Trigger } from "../domain/outcome.js";
import { describeEdits, type FailoverPlan, planFailover } from "../domain/plan.js";
import { pullRequestBody } from "../domain/pull-request-text.js";
import { type Action, targetSide } from "../domain/service.js";
import { unifiedDiff } from "../domain/unified-diff.js";
import type { PullRequestInfo } from "../repo/change-requests.js";
import type { CommitResult } from "../repo/port.js";
import type { FailoverContext, FailoverMode } from "./context.js";
import { resolveMode, supersede } from "./failover.js";
import { servicesOnNode } from "./find-service.js";
import {
  closeSupersededPullRequests,
  deliverByPullRequest,
  type PullRequestOutcome,
} from "./pull-request-flow.js";
import { readServices } from "./read-service.js";

export interface NodeFailoverRequest {
  /** A primary node value as configured (`primary_node_label`), e.g. `k3s-w1` or `primary`. */
  readonly node: string;
  readonly action: Action;
  readonly dryRun: boolean;
  readonly mode?: FailoverMode | undefined;
  readonly trigger: Trigger;
  readonly requester: string;
}

/** What happened to each service of the node. */
export type ServiceResult =
  | { readonly service: string; readonly result: "changed" | "no_op"; readonly plan: FailoverPlan }
  | {
      readonly service: string;
      readonly result: "refused" | "locked";
      readonly code: string;
      readonly message: string;
    };

interface NodePlanned {
  readonly node: string;
  readonly action: Action;
  readonly to: "primary" | "backup";
  readonly mode: FailoverMode;
  readonly head: string;
  readonly services: readonly ServiceResult[];
  readonly diff: string;
  readonly superseded: readonly PullRequestInfo[];
}

export type NodeFailoverResult =
  | (NodePlanned & { readonly outcome: "dry_run" | "no_op" })
  | (NodePlanned & { readonly outcome: "applied"; readonly commit: CommitResult })
  | (NodePlanned & PullRequestOutcome);

/**
 * Every service whose primary is `node`, moved in ONE atomic commit (or one PR). Services
 * that cannot move (refused manifest, locked) are reported and left out; the others still
 * move: the node is down, and what can move should.
 */
export async function runNodeFailover(
  ctx: FailoverContext,
  request: NodeFailoverRequest,
): Promise<NodeFailoverResult> {
  const specs = servicesOnNode(ctx, request.node);
  const mode = resolveMode(ctx, specs[0]?.name ?? "", request.mode);
  const key = `node-${request.node}`;
  const requestId = randomUUID();
  for (let attempt = 1; attempt <= ctx.maxAttempts; attempt++) {
    const at = await readServices(ctx, specs);
    const texts = new Map(at.texts);
    const results: ServiceResult[] = [];
    for (const files of at.services) {
      const service = files.spec.name;
      if (files.error !== undefined) {
        results.push({
          service,
          result: "refused",
          code: files.error.code,
          message: files.error.message,
        });
        continue;
      }
      if (files.lock !== undefined && !request.dryRun) {
        results.push({
          service,
          result: "locked",
          code: "locked",
          message: describeLock(files.lock),
        });
        continue;
      }
      try {
        // Planned against the texts as the services before it left them: two services may
        // share a file (a Flux Kustomization's variables).
        const plan = planFailover({ ...files, files: { ...files.files, texts } }, request.action);
        for (const f of plan.files) texts.set(f.path, f.after);
        results.push({ service, result: plan.changed ? "changed" : "no_op", plan });
      } catch (error) {
        if (!(error instanceof FailoverError)) throw error;
        results.push({ service, result: "refused", code: error.code, message: error.message });
      }
    }
    const changes = [...texts.entries()].flatMap(([path, text]) =>
      typeof text === "string" && text !== at.texts.get(path) ? [{ path, text }] : [],
    );
    const diff = changes
      .map((c) => unifiedDiff(c.path, at.texts.get(c.path) ?? "", c.text))
      .join("");
    const planned: NodePlanned = {
      node: request.node,
      action: request.action,
      to: targetSide(request.action),
      mode,
      head: at.head,
      services: results,
      diff,
      superseded: [],
    };
    if (request.dryRun) return { ...planned, outcome: "dry_run" };
    const moved = results.flatMap((r) => (r.result === "changed" ? [r.plan] : []));
    if (changes.length === 0) {
      const closed = await supersede(ctx, key, at.branch, {
        service: `node ${request.node}`,
        to: planned.to,
        action: request.action,
      });
      return { ...planned, superseded: closed === undefined ? [] : [closed], outcome: "no_op" };
    }
    const message = failoverCommitMessage({
      headline: `failover(node ${request.node}): ${request.action} ${moved.length} service${moved.length === 1 ? "" : "s"} to ${planned.to}`,
      services: moved.map((p) => ({
        service: p.service,
        action: p.action,
        from: p.from,
        to: p.to,
      })),
      node: request.node,
      trigger: request.trigger,
      requester: request.requester,
      requestId,
      changes: moved.flatMap((p) => describeEdits(p.edits)),
    });
    if (mode === "pr" && ctx.pullRequests !== undefined) {
      const delivered = await deliverByPullRequest(ctx.repo, ctx.pullRequests, at, {
        key,
        title: `failover(node ${request.node}): ${request.action} to ${planned.to}`,
        body: pullRequestBody(moved, request),
        message,
        files: changes.map((c) => ({ path: c.path, after: c.text })),
      });
      if (delivered.outcome === "pr_merged") ctx.statusCache?.moved(at.branch, delivered.merge.sha);
      return { ...planned, ...delivered };
    }
    let commit: CommitResult;
    try {
      commit = await ctx.repo.commit({
        branch: at.branch,
        expectedHead: at.head,
        message,
        changes,
      });
    } catch (error) {
      if (!(error instanceof StaleHeadError)) throw error;
      continue;
    }
    ctx.statusCache?.moved(at.branch, commit.sha);
    // Best effort, with one listing of the open PRs: the failover is in Git already.
    const superseded =
      ctx.pullRequests === undefined
        ? []
        : await closeSupersededPullRequests(
            ctx.pullRequests,
            moved.map((p) => p.service),
            at.branch,
            (service) =>
              `${at.branch} now has ${service} on ${planned.to} (node ${request.node} ${request.action})`,
          ).catch((error: unknown) => {
            ctx.onAuditError?.(error);
            return [];
          });
    return { ...planned, superseded, outcome: "applied", commit };
  }
  throw new FailoverError(
    "conflict",
    `the branch kept moving: gave up after ${ctx.maxAttempts} attempts; try again`,
  );
}
