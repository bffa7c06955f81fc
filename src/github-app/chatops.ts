import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { z } from "zod";
import type { EditableReply } from "../automation/reply-confirmation.js";
import { commandFromComment } from "../domain/commands/from-comment.js";
import type { FailoverContext } from "../failover/context.js";
import { type CommandResult, runCommand } from "../failover/run-command.js";
import { chatopsReply, deniedReply, errorReply } from "../presenters/chatops-markdown.js";
import { type GitOpsTarget, isGitOpsRepository } from "./gitops-target.js";
import { issueCommentPayload } from "./payload-schemas.js";
import type { ChatOpsPorts, RestClient } from "./ports.js";

export interface ChatOpsDeps {
  readonly ctx: FailoverContext;
  readonly target: GitOpsTarget;
  /** Collaborator roles allowed to run commands (CHATOPS_PERMISSIONS). */
  readonly allowedRoles: readonly string[];
  /** The GitHub adapters ChatOps needs beyond the use cases (built by the composition root). */
  readonly ports: ChatOpsPorts;
  /**
   * Where a failover's reply is remembered (by operation id) so it can be edited with Flux's
   * confirmation and the measured RTO (automation/reply-confirmation.ts). Absent: not edited.
   */
  readonly replies?: { remember(operation: string, reply: EditableReply): void } | undefined;
}

const postedComment = z.object({ id: z.number() });

/** Outcomes that wrote (or proposed) a change: Flux will have something to say about them. */
const WRITTEN = new Set(["applied", "pr_merged", "pr_opened", "pr_armed"]);

function wrote(result: CommandResult): boolean {
  return (
    (result.kind === "failover" || result.kind === "node_failover") &&
    WRITTEN.has(result.result.outcome)
  );
}

export type ChatOpsOutcome = "ignored" | "duplicate" | "replied" | "denied" | "failed";

/**
 * `/failover ...` in an issue or pull request comment of the GitOps repository: 👀 on
 * receipt, the sender's role checked, the same `runCommand` as the HTTP API, one reply,
 * then 🚀 or 😕. Runs after the webhook was acknowledged (app-function.ts).
 *
 * A comment runs at most once, whatever GitHub redelivers and however many replicas receive
 * it, with GitHub as the only record: the app's 👀 on the comment is its claim. GitHub keeps
 * one reaction per user and content and answers 201 to the request that created it, 200 to
 * every later one ("you already added the reaction"), atomically. So only the delivery whose
 * 👀 got 201 goes on; a 200 (a redelivery, the other replica, a restart after a crash) does
 * nothing more. When the 👀 cannot be created, the command does not run either (fail closed:
 * at most once, not at least once; the sender sees no 👀 and can comment again).
 */
export async function handleIssueComment(
  client: RestClient,
  rawPayload: unknown,
  deps: ChatOpsDeps,
  log: Logger,
): Promise<ChatOpsOutcome> {
  const parsed = issueCommentPayload.safeParse(rawPayload);
  if (!parsed.success) {
    log.warn({ issues: parsed.error.issues.slice(0, 5) }, "issue_comment payload not understood");
    return "ignored";
  }
  const payload = parsed.data;
  if (payload.action !== "created") return "ignored";
  // Bots (this app first) never command: no loops, no replays through other bots.
  if (payload.sender.type === "Bot" || payload.comment.user?.type === "Bot") return "ignored";
  if (payload.comment.performed_via_github_app) return "ignored";
  if (!isGitOpsRepository(deps.target, payload.repository.full_name)) return "ignored";
  const login = payload.sender.login;
  const command = commandFromComment(payload.comment.body, {
    trigger: "chatops",
    requester: login,
    requestId: randomUUID(),
  });
  if (command === null) return "ignored";

  const where = { owner: payload.repository.owner.login, repo: payload.repository.name };
  const react = (content: "eyes" | "rocket" | "confused") =>
    client
      .request("POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", {
        ...where,
        comment_id: payload.comment.id,
        content,
      })
      .catch((error: unknown) => log.warn({ err: error, content }, "reaction failed"));
  const reply = (body: string) =>
    client.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      ...where,
      issue_number: payload.issue.number,
      body,
    });

  const claimed = await claim(client, { ...where, comment_id: payload.comment.id }, log);
  if (claimed !== "claimed") return claimed;
  log.info({ command: command.kind, sender: login }, "chatops command");
  if (command.kind === "help") {
    await reply(chatopsReply({ kind: "help", problem: command.problem }, login));
    await react(command.problem === undefined ? "rocket" : "confused");
    return "replied";
  }

  try {
    const role = await deps.ports.collaboratorRole(client, deps.target, login);
    if (!deps.allowedRoles.includes(role)) {
      await reply(
        deniedReply(login, role, deps.allowedRoles, `${deps.target.owner}/${deps.target.repo}`),
      );
      await react("confused");
      return "denied";
    }
    const result = await runCommand(deps.ctx, command);
    const body = chatopsReply(result, login);
    const posted = postedComment.safeParse((await reply(body)).data);
    if (deps.replies !== undefined && posted.success && wrote(result)) {
      const commentId = posted.data.id;
      deps.replies.remember(command.requestId, {
        body,
        edit: (edited) =>
          client.request("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", {
            ...where,
            comment_id: commentId,
            body: edited,
          }),
      });
    }
    await react("rocket");
    return "replied";
  } catch (error) {
    log.warn({ err: error, command: command.kind }, "chatops command failed");
    await reply(errorReply(login, error));
    await react("confused");
    return "failed";
  }
}

/** Creates the app's 👀 on the comment: "claimed" only when this request created it (201). */
async function claim(
  client: RestClient,
  comment: { owner: string; repo: string; comment_id: number },
  log: Logger,
): Promise<"claimed" | "duplicate" | "failed"> {
  try {
    const created = await client.request(
      "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
      { ...comment, content: "eyes" },
    );
    if (created.status === 201) return "claimed";
    log.info(
      { comment: comment.comment_id, status: created.status },
      "comment already claimed (its 👀 exists): a redelivery or another replica; nothing done",
    );
    return "duplicate";
  } catch (error) {
    log.warn(
      { err: error, comment: comment.comment_id },
      "could not claim the comment with 👀; the command does not run",
    );
    return "failed";
  }
}
