import type { ApplicationFunction } from "probot";
import type { BackgroundWork } from "../failover/background.js";
import { type ChatOpsDeps, handleIssueComment } from "./chatops.js";
import { handleRepositoryDispatch, handleWorkflowDispatch } from "./dispatch.js";
import { isGitOpsRepository } from "./gitops-target.js";
import type { RestClient } from "./ports.js";
import { handlePush } from "./push.js";

export interface AppDeps extends ChatOpsDeps {
  /** Where a delivery's work runs once the webhook is acknowledged (drained on SIGTERM). */
  readonly background: BackgroundWork;
  /** Flux's `github` Provider posts commit statuses (kustomization/<name>/<id>): confirmation. */
  readonly onStatus?: ((context: { payload: unknown }) => Promise<void>) | undefined;
}

/**
 * The Probot app: ChatOps and the two dispatch events, all into `runCommand`; `push` to the
 * GitOps branch tells the status cache the branch moved. Every handler returns at once, so
 * the webhook is answered 2xx within GitHub's 10 s whatever the work (GitHub does not retry
 * a delivery it timed out); the work goes on in the background, at most once per comment by
 * the 👀 claim (chatops.ts).
 */
export function failoverApp(deps: AppDeps): ApplicationFunction {
  return (app) => {
    app.on("issue_comment.created", (context) => {
      deps.background.run("issue_comment", () =>
        handleIssueComment(
          context.octokit as unknown as RestClient,
          context.payload,
          deps,
          context.log,
        ),
      );
    });
    app.on("workflow_dispatch", (context) => {
      deps.background.run("workflow_dispatch", () =>
        handleWorkflowDispatch(context.payload, { id: context.id, deps, log: context.log }),
      );
    });
    app.on("repository_dispatch", (context) => {
      deps.background.run("repository_dispatch", () =>
        handleRepositoryDispatch(context.payload, { id: context.id, deps, log: context.log }),
      );
    });
    const { onStatus } = deps;
    if (onStatus !== undefined) {
      app.on("status", (context) => {
        // Only the GitOps repository's commits confirm: a fork with the same shas where the
        // App is installed too must not confirm or fail our operations.
        if (!isGitOpsRepository(deps.target, context.payload.repository.full_name)) return;
        deps.background.run("status", () => onStatus({ payload: context.payload }));
      });
    }
    app.on("push", async (context) => {
      // Quick and local (the status cache): done before the answer.
      await handlePush(context.payload, deps, context.log);
    });
  };
}
