import type { Logger } from "pino";
import { SERVICE_NAME } from "../config/services-schema.js";
import type { Trigger } from "../domain/outcome.js";
import type { FailoverContext } from "../failover/context.js";
import { executeFailover } from "../failover/execute-failover.js";
import { getStatus } from "../failover/status.js";
import { type GitOpsTarget, isGitOpsRepository } from "./gitops-target.js";
import {
  failoverInputs,
  repositoryDispatchPayload,
  workflowDispatchPayload,
} from "./payload-schemas.js";

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
  rawInputs: unknown,
  trigger: Trigger,
  sender: string,
  deps: DispatchDeps,
  log: Logger,
): Promise<void> {
  const inputs = failoverInputs.safeParse(rawInputs ?? {});
  if (!inputs.success || !SERVICE_NAME.test(inputs.data.service)) {
    log.warn({ trigger, sender }, "dispatch inputs invalid: need service, action, dry_run, mode");
    return;
  }
  const { service, action, dry_run: dryRun, mode } = inputs.data;
  try {
    if (action === "status") {
      const status = await getStatus(deps.ctx, service);
      log.info({ trigger, service, state: status.state }, "dispatch status");
      return;
    }
    const { result } = await executeFailover(deps.ctx, {
      service,
      action,
      dryRun,
      mode,
      trigger,
      requester: sender,
    });
    log.info({ trigger, service, action, outcome: result.outcome }, "dispatch failover done");
  } catch (error) {
    // The audit trail (a failed deployment) carries the failure to the repository.
    log.warn({ err: error, trigger, service, action }, "dispatch failover failed");
  }
}
