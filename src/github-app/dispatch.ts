import type { Logger } from "pino";
import { commandFromDispatch, dispatchRequestId } from "../domain/commands/from-dispatch.js";
import { FailoverError } from "../domain/errors.js";
import type { Trigger } from "../domain/outcome.js";
import type { FailoverContext } from "../failover/context.js";
import { findRequestCommit, requestCommit } from "../failover/history.js";
import { runCommand } from "../failover/run-command.js";
import type { GitOpsRepo } from "../repo/port.js";
import { type GitOpsTarget, isGitOpsRepository } from "./gitops-target.js";
import { repositoryDispatchPayload, workflowDispatchPayload } from "./payload-schemas.js";

export interface DispatchDeps {
  readonly ctx: FailoverContext;
  readonly target: GitOpsTarget;
}

/** One webhook delivery: its `X-GitHub-Delivery` id (Probot's `context.id`), deps and logger. */
export interface Delivery {
  readonly id: string;
  readonly deps: DispatchDeps;
  readonly log: Logger;
}

/** The workflow template's file name (examples/gitops-repo/.github/workflows/failover.yml). */
const WORKFLOW_FILE = /(^|\/)failover\.ya?ml$/;

/**
 * GitHub Actions `workflow_dispatch` of the failover workflow. Running a workflow already
 * needs write access to the repository, so the sender is authorised by GitHub itself.
 *
 * A delivery runs at most once: its delivery id is the request id (the commit's
 * `Failover-Request` trailer), and a failover whose id is already in Git does nothing, so
 * "Redeliver" on an old delivery cannot repeat a promote someone has demoted since.
 */
export async function handleWorkflowDispatch(raw: unknown, delivery: Delivery) {
  const { deps, log } = delivery;
  const parsed = workflowDispatchPayload.safeParse(raw);
  if (!parsed.success) return log.warn("workflow_dispatch payload not understood");
  const payload = parsed.data;
  if (!isGitOpsRepository(deps.target, payload.repository.full_name)) return;
  if (!WORKFLOW_FILE.test(payload.workflow)) return;
  await dispatch(payload.inputs, "workflow_dispatch", payload.sender.login, delivery);
}

/**
 * `repository_dispatch` with event type `failover` and client_payload
 * `{service, action, dry_run, mode}`. Creating one needs contents: write on the repository.
 * At most once per delivery, as above.
 */
export async function handleRepositoryDispatch(raw: unknown, delivery: Delivery) {
  const { deps, log } = delivery;
  const parsed = repositoryDispatchPayload.safeParse(raw);
  if (!parsed.success) return log.warn("repository_dispatch payload not understood");
  const payload = parsed.data;
  if (payload.action !== "failover") return;
  if (!isGitOpsRepository(deps.target, payload.repository.full_name)) return;
  await dispatch(payload.client_payload, "repository_dispatch", payload.sender.login, delivery);
}

async function dispatch(
  inputs: unknown,
  trigger: Trigger,
  sender: string,
  delivery: Delivery,
): Promise<void> {
  const { deps, log } = delivery;
  const requestId = dispatchRequestId(delivery.id);
  if (requestId === undefined) {
    // Without a usable id a redelivery could not be told from a new request: fail closed.
    log.warn(
      { trigger, sender, delivery: delivery.id.slice(0, 100) },
      "dispatch not run: its X-GitHub-Delivery id cannot name a request (letters, digits, '-', '.', '_')",
    );
    return;
  }
  const command = commandFromDispatch(inputs, { trigger, requester: sender, requestId });
  if (command === null) {
    log.warn({ trigger, sender }, "dispatch inputs invalid: need service, action, dry_run, mode");
    return;
  }
  try {
    let ctx = deps.ctx;
    if (command.kind === "failover" && !command.dryRun) {
      const spec = ctx.config().services.get(command.service);
      // An unknown service is refused by runCommand, as before: nothing to look for.
      if (spec !== undefined) {
        const found = await findRequestCommit(ctx, spec, requestId);
        if (found.commit !== undefined) {
          log.info(
            {
              trigger,
              sender,
              service: command.service,
              operation: requestId,
              commit: found.commit.sha,
              url: found.commit.url,
            },
            "dispatch already handled (a redelivery): nothing done",
          );
          return;
        }
        ctx = { ...ctx, repo: onceRepo(ctx, requestId, found) };
      }
    }
    const result = await runCommand(ctx, command);
    if (result.kind === "status") {
      log.info(
        { trigger, service: result.status.service, state: result.status.state },
        "dispatch status",
      );
    }
    // A failover's outcome is in the log line and the audit trail (listeners).
  } catch (error) {
    // The audit trail (a failed deployment) carries the failure to the repository.
    log.warn({ err: error, trigger, command: command.kind }, "dispatch command failed");
  }
}

/**
 * The repository as one dispatch's failover sees it: before a write the search above does
 * not cover (planned on another head, because the branch moved and the use case re-planned,
 * or touching other files), the request's trailer is searched for again, and found, the
 * write is refused. With the write's compare-and-swap this keeps a delivery to one commit
 * when a redelivery races the first one (two replicas) and a demote lands in between: the
 * re-plan would see the service on primary again and promote it a second time. A write on
 * the searched head, of searched files, needs no search: nothing of this request was in
 * their history, and the CAS holds the branch there.
 */
function onceRepo(
  ctx: FailoverContext,
  requestId: string,
  searched: { readonly head: string; readonly paths: ReadonlySet<string> },
): GitOpsRepo {
  const repo = ctx.repo;
  return {
    description: repo.description,
    defaultBranch: () => repo.defaultBranch(),
    probeHead: (branch, seen) => repo.probeHead(branch, seen),
    read: (branch, paths, options) => repo.read(branch, paths, options),
    listFiles: (branch, prefix) => repo.listFiles(branch, prefix),
    history: (branch, options) => repo.history(branch, options),
    commit: async (request) => {
      const paths = request.changes.map((c) => c.path);
      if (request.expectedHead !== searched.head || paths.some((p) => !searched.paths.has(p))) {
        // The base branch, also for a PR branch's commit: what lands there is what counts.
        const base = await ctx.branch();
        const earlier = await requestCommit(repo, base, paths, requestId);
        if (earlier !== undefined) {
          throw new FailoverError(
            "refused",
            `this request (${requestId}) was handled already in commit ${earlier.sha.slice(0, 12)}; nothing written`,
            { details: { operation: requestId, commit: earlier.sha } },
          );
        }
      }
      return repo.commit(request);
    },
  };
}
