import type { Logger } from "pino";
import type { FailoverContext } from "../failover/context.js";
import { type GitOpsTarget, isGitOpsRepository } from "./gitops-target.js";
import { pushPayload } from "./payload-schemas.js";

export interface PushDeps {
  readonly ctx: FailoverContext;
  readonly target: GitOpsTarget;
}

/**
 * A `push` to the GitOps repository's branch: the status cache forgets what it holds for the
 * branch (unless it was read at the pushed commit already), so no status from before the push
 * is served after it, even while GitHub's REST answers for the ref still lag behind.
 */
export async function handlePush(raw: unknown, deps: PushDeps, log: Logger): Promise<void> {
  const parsed = pushPayload.safeParse(raw);
  if (!parsed.success) {
    log.warn("push payload not understood");
    return;
  }
  const { ref, after, deleted, repository } = parsed.data;
  if (deps.ctx.statusCache === undefined) return;
  if (!isGitOpsRepository(deps.target, repository.full_name)) return;
  // Not resolved yet: nothing can have been cached for it.
  const branch = await deps.ctx.branch().catch(() => undefined);
  if (branch === undefined || ref !== `refs/heads/${branch}`) return;
  const gone = deleted === true || /^0{40}$/.test(after);
  deps.ctx.statusCache.moved(branch, gone ? undefined : after.toLowerCase());
  log.debug({ branch, after }, "push: status cache told the branch moved");
}
