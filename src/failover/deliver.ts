import { failoverCommitMessage } from "../domain/commit-message.js";
import type { ErrorCode } from "../domain/errors.js";
import { FailoverError, StaleHeadError } from "../domain/errors.js";
import { describeLock, lockRefusal } from "../domain/lock.js";
import type { FailoverMode, Outcome, ServiceResultKind, Trigger } from "../domain/outcome.js";
import {
  describeEdits,
  type FailoverPlan,
  planCommitMessage,
  planFailover,
} from "../domain/plan.js";
import { pullRequestBody, pullRequestTitle } from "../domain/pull-request-text.js";
import { type Action, type ServiceSpec, type Side, targetSide } from "../domain/service.js";
import { unifiedDiff } from "../domain/unified-diff.js";
import { withParseMemo } from "../domain/yaml/parse-manifest.js";
import type { PullRequestInfo } from "../repo/change-requests.js";
import type { CommitResult, FileChange } from "../repo/port.js";
import type { FailoverContext, RpoReading } from "./context.js";
import type { FailoverEvent, OperationFacts, ServiceMoveFacts } from "./events.js";
import {
  type ChangeSet,
  closeSupersededPullRequest,
  deliverByPullRequest,
  type PullRequestOutcome,
} from "./pull-request-flow.js";
import { readServices, type ServiceFiles, type ServicesAtHead } from "./read-service.js";
import { type RpoWindow, rpoReadings, rpoWindow } from "./rpo-gate.js";

/**
 * What a delivery moves: one service (its failures are the request's: a locked or refused
 * service is an error), or every service of a node (each failure is that service's row, and
 * the others still move: the node is down, and what can move should).
 */
export type DeliveryScope =
  | { readonly kind: "service"; readonly spec: ServiceSpec }
  | { readonly kind: "node"; readonly node: string; readonly specs: readonly ServiceSpec[] };

export interface DeliveryRequest {
  readonly scope: DeliveryScope;
  readonly action: Action;
  readonly dryRun: boolean;
  /** Already resolved (request, service, process default). */
  readonly mode: FailoverMode;
  readonly trigger: Trigger;
  readonly requester: string;
  /** The operation's id: the commit's `Failover-Request` trailer and every event's. */
  readonly requestId: string;
  /** `performance.now()` when the command began (events that end it carry its duration). */
  readonly started: number;
  /** A person accepts a backup copy older than `max_rpo` (`accept_data_loss=true`). */
  readonly acceptDataLoss?: boolean | undefined;
}

/** What happened to each service. */
export type ServiceResult =
  | {
      readonly service: string;
      readonly result: Extract<ServiceResultKind, "changed" | "no_op">;
      readonly plan: FailoverPlan;
      /** A manual promote's data-loss window (the RPO gate); absent for demotes. */
      readonly rpo?: RpoWindow | undefined;
    }
  | {
      readonly service: string;
      readonly result: Extract<ServiceResultKind, "refused" | "locked">;
      readonly code: ErrorCode;
      readonly message: string;
    };

interface Delivered {
  readonly to: Side;
  readonly mode: FailoverMode;
  readonly head: string;
  readonly branch: string;
  readonly services: readonly ServiceResult[];
  readonly diff: string;
  /** Open failover PRs this request made obsolete, closed (a no-op's; a commit's are closed after the answer). */
  readonly superseded: readonly PullRequestInfo[];
}

export type Delivery =
  | (Delivered & { readonly outcome: Extract<Outcome, "dry_run" | "no_op"> })
  | (Delivered & {
      readonly outcome: Extract<Outcome, "applied">;
      readonly commit: CommitResult;
      readonly attempts: number;
    })
  | (Delivered & PullRequestOutcome);

/**
 * The one delivery path, for 1..N services: read them all in one repository read, plan each
 * against the texts the previous ones left (two services may share a file), and, unless a
 * dry run or nothing changes, deliver every change in ONE commit with a compare-and-swap on
 * the head the plan came from (urgent), or in one PR (PR mode). When the branch moved
 * meanwhile, it re-reads and re-plans, so a concurrent identical request ends as `no_op`
 * instead of a second commit. Events go to `ctx.events` as they happen; nothing here waits
 * for a listener.
 */
export async function deliver(ctx: FailoverContext, request: DeliveryRequest): Promise<Delivery> {
  const specs = request.scope.kind === "service" ? [request.scope.spec] : request.scope.specs;
  const to = targetSide(request.action);
  // The cluster is read once per request, beside the first repository read.
  const gate = rpoReadings(ctx, request, specs);
  for (let attempt = 1; attempt <= ctx.maxAttempts; attempt++) {
    // Neighbours serve warnings only: a dry run reads them, a real failover uses what it knows.
    const neighbours = request.dryRun ? "read" : "known";
    const [read, readings] = await Promise.all([readServices(ctx, specs, { neighbours }), gate]);
    const at = await recheckAt(ctx, read);
    const { services, texts } = planAll(at, request, readings);
    const changes = [...texts.entries()].flatMap(([path, text]): FileChange[] =>
      typeof text === "string" && text !== at.texts.get(path) ? [{ path, text }] : [],
    );
    const plans = services.flatMap((s) => ("plan" in s ? [s.plan] : []));
    const moved = services.flatMap((s) => (s.result === "changed" ? [s.plan] : []));
    const single = request.scope.kind === "service" ? plans[0] : undefined;
    const diff =
      single?.diff ??
      changes.map((c) => unifiedDiff(c.path, at.texts.get(c.path) ?? "", c.text)).join("");
    const delivered: Delivered = {
      to,
      mode: request.mode,
      head: at.head,
      branch: at.branch,
      services,
      diff,
      superseded: [],
    };
    const facts = operationFacts(request, at.branch);
    if (attempt === 1 || request.dryRun) {
      emit(ctx, {
        ...(request.dryRun ? endFacts(request, at.branch) : facts),
        type: "planned",
        services: plans.map(moveFacts),
        dryRun: request.dryRun,
      });
    }
    if (request.dryRun) return { ...delivered, outcome: "dry_run" };
    if (changes.length === 0) {
      // Services a recheck held back are not where the request wants them: no PR is superseded.
      const closed =
        at === read
          ? await supersedeOnNoOp(ctx, request, at.branch, at.openFailoverPullRequests)
          : undefined;
      emit(ctx, {
        ...endFacts(request, at.branch),
        type: "unchanged",
        services: plans.map(moveFacts),
      });
      return { ...delivered, superseded: closed === undefined ? [] : [closed], outcome: "no_op" };
    }
    const change: ChangeSet = {
      key: deliveryKey(request.scope),
      title:
        single === undefined
          ? `failover(node ${nodeOf(request.scope)}): ${request.action} to ${to}`
          : pullRequestTitle(single),
      body: pullRequestBody(moved, request),
      message:
        single === undefined
          ? nodeCommitMessage(request, moved, to)
          : planCommitMessage(single, request),
      files: changes.map((c) => ({ path: c.path, after: c.text })),
    };
    const movedFacts = moved.map(moveFacts);
    if (request.mode === "pr" && ctx.pullRequests !== undefined) {
      let pr: PullRequestOutcome;
      try {
        pr = await deliverByPullRequest(ctx.repo, ctx.pullRequests, at, change);
      } catch (error) {
        // Lost a race on the PR branch or the merge: re-read (the base may have it now).
        if (!(error instanceof StaleHeadError)) throw error;
        continue;
      }
      const ended = endFacts(request, at.branch);
      const pullRequest = { number: pr.pr.number, url: pr.pr.url };
      if (pr.outcome === "pr_merged") {
        ctx.statusCache?.moved(at.branch, pr.merge.sha);
        emit(ctx, {
          ...ended,
          type: "committed",
          services: movedFacts,
          commit: pr.merge.sha,
          pullRequest,
        });
      } else {
        emit(ctx, {
          ...ended,
          type: "pr_opened",
          services: movedFacts,
          pullRequest,
          autoMerge: pr.outcome === "pr_armed",
          head: pr.pr.headSha,
        });
      }
      return { ...delivered, ...pr };
    }
    let commit: CommitResult;
    try {
      commit = await ctx.repo.commit({
        branch: at.branch,
        expectedHead: at.head,
        message: change.message,
        changes,
      });
    } catch (error) {
      if (!(error instanceof StaleHeadError)) throw error;
      continue;
    }
    // The failover is in Git now: nothing after this may report it as failed.
    ctx.statusCache?.moved(at.branch, commit.sha);
    emit(ctx, {
      ...endFacts(request, at.branch),
      type: "committed",
      services: movedFacts,
      commit: commit.sha,
      commitUrl: commit.url,
      ...(at.openFailoverPullRequests === undefined
        ? {}
        : { openFailoverPullRequests: at.openFailoverPullRequests }),
    });
    return { ...delivered, outcome: "applied", commit, attempts: attempt };
  }
  throw new FailoverError(
    "conflict",
    `the branch kept moving: gave up after ${ctx.maxAttempts} attempts; try again`,
    {
      details:
        request.scope.kind === "service"
          ? { service: request.scope.spec.name, attempts: ctx.maxAttempts }
          : { node: request.scope.node, attempts: ctx.maxAttempts },
    },
  );
}

/**
 * The caller's guards at this very head (`ctx.recheck`, context.ts): the services they hold
 * back now are left out of this attempt's plan, so no commit landing on `read.head` moves
 * them. A compare-and-swap that loses re-reads, and so asks again on the new head.
 */
async function recheckAt(ctx: FailoverContext, read: ServicesAtHead): Promise<ServicesAtHead> {
  const allowed = await ctx.recheck?.(read.head);
  if (allowed === undefined || read.services.every((s) => allowed.has(s.spec.name))) return read;
  return { ...read, services: read.services.filter((s) => allowed.has(s.spec.name)) };
}

/** Plans every service, each against the texts the ones before it left. */
function planAll(
  at: ServicesAtHead,
  request: DeliveryRequest,
  readings: ReadonlyMap<string, RpoReading> | undefined,
): { services: ServiceResult[]; texts: Map<string, string | null> } {
  // The services of a node share files (Flux Kustomizations, chart sources): parsed once.
  return withParseMemo(() => planEach(at, request, readings));
}

function planEach(
  at: ServicesAtHead,
  request: DeliveryRequest,
  readings: ReadonlyMap<string, RpoReading> | undefined,
): { services: ServiceResult[]; texts: Map<string, string | null> } {
  const strict = request.scope.kind === "service";
  const texts = new Map(at.texts);
  const services: ServiceResult[] = [];
  for (const files of at.services) {
    const service = files.spec.name;
    try {
      if (files.error !== undefined) throw files.error;
      if (files.lock !== undefined && !request.dryRun) {
        throw new FailoverError("locked", lockRefusal(files.lock), {
          details: { service, lock: files.lock },
        });
      }
      const reading = readings?.get(service);
      const plan = withRpoGate(
        withLockWarning(
          planFailover({ ...files, files: { ...files.files, texts } }, request.action),
          files,
        ),
        reading,
        request.dryRun,
      );
      for (const f of plan.files) texts.set(f.path, f.after);
      services.push({
        service,
        result: plan.changed ? "changed" : "no_op",
        plan,
        ...(reading === undefined ? {} : { rpo: rpoWindow(reading) }),
      });
    } catch (error) {
      if (strict || !(error instanceof FailoverError)) throw error;
      const locked = error.code === "locked" && files.lock !== undefined;
      services.push({
        service,
        result: locked ? "locked" : "refused",
        code: error.code,
        message: locked && files.lock !== undefined ? describeLock(files.lock) : error.message,
      });
    }
  }
  return { services, texts };
}

/** A dry run of a locked service shows the plan, and says the real one would be refused. */
function withLockWarning(plan: FailoverPlan, files: ServiceFiles): FailoverPlan {
  if (files.lock === undefined) return plan;
  return { ...plan, warnings: [...plan.warnings, `${describeLock(files.lock)}; unlock it first`] };
}

/**
 * The RPO gate before a manual promote: a backup copy older than `max_rpo` refuses the
 * service (before its texts count, so a node's other services still move) unless the person
 * accepted the loss; a dry run shows the plan with the refusal as a warning. A service
 * already on its backup loses nothing and is not gated.
 */
function withRpoGate(
  plan: FailoverPlan,
  reading: RpoReading | undefined,
  dryRun: boolean,
): FailoverPlan {
  if (reading === undefined || reading.allowed || !plan.changed) return plan;
  if (dryRun) return { ...plan, warnings: [...plan.warnings, reading.message] };
  throw new FailoverError("refused", `${plan.service}: ${reading.message}`, {
    details: {
      service: plan.service,
      rpo: { seconds: reading.rpoSeconds ?? null, message: reading.message },
    },
  });
}

/** The fixed PR branch is `failover/<key>`: the service, or `node-<node>`. */
export function deliveryKey(scope: DeliveryScope): string {
  return scope.kind === "service" ? scope.spec.name : `node-${scope.node}`;
}

function nodeOf(scope: DeliveryScope): string {
  return scope.kind === "node" ? scope.node : scope.spec.nodes.primary;
}

function nodeCommitMessage(request: DeliveryRequest, moved: readonly FailoverPlan[], to: Side) {
  const node = nodeOf(request.scope);
  return failoverCommitMessage({
    headline: `failover(node ${node}): ${request.action} ${moved.length} service${moved.length === 1 ? "" : "s"} to ${to}`,
    services: moved.map((p) => ({ service: p.service, action: p.action, from: p.from, to: p.to })),
    node,
    trigger: request.trigger,
    requester: request.requester,
    requestId: request.requestId,
    changes: moved.flatMap((p) => describeEdits(p.edits)),
  });
}

/**
 * The base already has what was asked: an open failover PR for the same key would, once
 * merged, move it again. Closing it is this request's whole effect, so it is part of the
 * answer (a commit's superseded PRs are closed by a listener, after the answer).
 */
async function supersedeOnNoOp(
  ctx: FailoverContext,
  request: DeliveryRequest,
  branch: string,
  known: readonly PullRequestInfo[] | undefined,
): Promise<PullRequestInfo | undefined> {
  if (ctx.pullRequests === undefined) return undefined;
  const what =
    request.scope.kind === "service" ? request.scope.spec.name : `node ${request.scope.node}`;
  return closeSupersededPullRequest(
    ctx.pullRequests,
    deliveryKey(request.scope),
    branch,
    `${branch} now has ${what} on ${targetSide(request.action)} (${request.action})`,
    known,
  );
}

export function operationFacts(
  request: Pick<DeliveryRequest, "action" | "trigger" | "requester" | "requestId"> & {
    readonly scope?: DeliveryScope;
    readonly node?: string | undefined;
  },
  branch: string,
): OperationFacts {
  const node = request.scope?.kind === "node" ? request.scope.node : request.node;
  return {
    operation: request.requestId,
    action: request.action,
    trigger: request.trigger,
    requester: request.requester,
    ...(node === undefined ? {} : { node }),
    branch,
    at: new Date().toISOString(),
  };
}

/** The facts of the event that ends the command: with its duration. */
export function endFacts(
  request: Parameters<typeof operationFacts>[0] & { readonly started: number },
  branch: string,
): OperationFacts {
  return {
    ...operationFacts(request, branch),
    durationMs: Math.round(performance.now() - request.started),
  };
}

function moveFacts(plan: FailoverPlan): ServiceMoveFacts {
  return {
    service: plan.service,
    from: plan.from,
    to: plan.to,
    files: plan.files.map((f) => f.path),
  };
}

function emit(ctx: FailoverContext, event: FailoverEvent): void {
  ctx.events?.emit(event);
}
