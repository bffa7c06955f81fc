import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { commandFromDispatch } from "../domain/commands/from-dispatch.js";
import type { Trigger } from "../domain/outcome.js";
import type { FailoverContext } from "../failover/context.js";
import { runCommand } from "../failover/run-command.js";
import { type GitOpsTarget, isGitOpsRepository } from "./gitops-target.js";
import { repositoryDispatchPayload, workflowDispatchPayload } from "./payload-schemas.js";

export interface DispatchDeps {
  readonly ctx: FailoverContext;
  readonly target: GitOpsTarget;
}

/** The workflow template's file name (examples/gitops-repo/.github/workflows/failover.yml). */
const WORKFLOW_FILE = /(^|\/)failover\.ya?ml$/;

/**
 * GitHub Actions `workflow_dispatch` of the failover workflow. Running a workflow already
 * needs write access to the repository, so the sender is authorised by GitHub itself.
 */
export async function handleWorkflowDispatch(raw: unknown, deps: DispatchDeps, log: Logger) {
  const parsed = workflowDispatchPayload.safeParse(raw);
  if (!parsed.success) return log.warn("workflow_dispatch payload not understood");
  const payload = parsed.data;
  if (!isGitOpsRepository(deps.target, payload.repository.full_name)) return;
  if (!WORKFLOW_FILE.test(payload.workflow)) return;
  await dispatch(payload.inputs, "workflow_dispatch", payload.sender.login, deps, log);
}

/**
 * `repository_dispatch` with event type `failover` and client_payload
 * `{service, action, dry_run, mode}`. Creating one needs contents: write on the repository.
 */
export async function handleRepositoryDispatch(raw: unknown, deps: DispatchDeps, log: Logger) {
  const parsed = repositoryDispatchPayload.safeParse(raw);
  if (!parsed.success) return log.warn("repository_dispatch payload not understood");
  const payload = parsed.data;
  if (payload.action !== "failover") return;
  if (!isGitOpsRepository(deps.target, payload.repository.full_name)) return;
  await dispatch(payload.client_payload, "repository_dispatch", payload.sender.login, deps, log);
}

async function dispatch(
  inputs: unknown,
  trigger: Trigger,
  sender: string,
  deps: DispatchDeps,
  log: Logger,
): Promise<void> {
  const command = commandFromDispatch(inputs, {
    trigger,
    requester: sender,
    requestId: randomUUID(),
  });
  if (command === null) {
    log.warn({ trigger, sender }, "dispatch inputs invalid: need service, action, dry_run, mode");
    return;
  }
  try {
    const result = await runCommand(deps.ctx, command);
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
