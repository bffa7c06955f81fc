import type { ApplicationFunction } from "probot";
import { type ChatOpsDeps, handleIssueComment } from "./chatops.js";
import { handleRepositoryDispatch, handleWorkflowDispatch } from "./dispatch.js";
import { handlePush } from "./push.js";
import type { RestClient } from "./rest-client.js";

/**
 * The Probot app: ChatOps and the two dispatch events, all into the same use cases; `push`
 * to the GitOps branch tells the status cache the branch moved.
 */
export function failoverApp(deps: ChatOpsDeps): ApplicationFunction {
  return (app) => {
    app.on("issue_comment.created", async (context) => {
      await handleIssueComment(
        context.octokit as unknown as RestClient,
        context.payload,
        deps,
        context.log,
      );
    });
    app.on("workflow_dispatch", async (context) => {
      await handleWorkflowDispatch(context.payload, deps, context.log);
    });
    app.on("repository_dispatch", async (context) => {
      await handleRepositoryDispatch(context.payload, deps, context.log);
    });
    app.on("push", async (context) => {
      await handlePush(context.payload, deps, context.log);
    });
  };
}
