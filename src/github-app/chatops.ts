import type { Logger } from "pino";
import { parseCommand } from "../domain/command.js";
import type { FailoverContext } from "../failover/context.js";
import { executeFailover, executeNodeFailover } from "../failover/execute-failover.js";
import { getHistory } from "../failover/history.js";
import { listServices } from "../failover/list.js";
import { setLock } from "../failover/locks.js";
import { getStatus } from "../failover/status.js";
import { collaboratorRole } from "./collaborator-permission.js";
import { type GitOpsTarget, isGitOpsRepository } from "./gitops-target.js";
import { issueCommentPayload } from "./payload-schemas.js";
import {
  deniedReply,
  errorReply,
  failoverReply,
  historyReply,
  listReply,
  lockReply,
  nodeReply,
  statusReply,
  usageReply,
} from "./render-reply.js";
import type { RestClient } from "./rest-client.js";

export interface ChatOpsDeps {
  readonly ctx: FailoverContext;
  readonly target: GitOpsTarget;
  /** Collaborator roles allowed to run commands (CHATOPS_PERMISSIONS). */
  readonly allowedRoles: readonly string[];
}

export type ChatOpsOutcome = "ignored" | "duplicate" | "replied" | "denied" | "failed";

/**
 * `/failover ...` in an issue or pull request comment of the GitOps repository: 👀 on
 * receipt, the sender's role checked, the same use cases as the HTTP API, one reply, then
 * 🚀 or 😕.
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
  const command = parseCommand(payload.comment.body);
  if (command === null) return "ignored";

  const where = { owner: payload.repository.owner.login, repo: payload.repository.name };
  const login = payload.sender.login;
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
  if (command.kind === "help" || command.kind === "usage") {
    await reply(usageReply(command.kind === "usage" ? command.problem : undefined));
    await react(command.kind === "help" ? "rocket" : "confused");
    return "replied";
  }

  const role = await collaboratorRole(client, deps.target, login);
  if (!deps.allowedRoles.includes(role)) {
    await reply(
      deniedReply(login, role, deps.allowedRoles, `${deps.target.owner}/${deps.target.repo}`),
    );
    await react("confused");
    return "denied";
  }

  try {
    if (command.kind === "list") {
      await reply(listReply(listServices(deps.ctx)));
    } else if (command.kind === "status") {
      await reply(statusReply(await getStatus(deps.ctx, command.service)));
    } else if (command.kind === "history") {
      await reply(historyReply(command.service, await getHistory(deps.ctx, command.service, 20)));
    } else if (command.kind === "lock" || command.kind === "unlock") {
      const result = await setLock(deps.ctx, {
        service: command.service,
        lock: command.kind === "lock",
        reason: command.kind === "lock" ? command.reason : "",
        requester: login,
      });
      await reply(lockReply(command.service, result, login));
    } else if (command.kind === "node") {
      const result = await executeNodeFailover(deps.ctx, {
        node: command.node,
        action: command.action,
        dryRun: command.dryRun,
        mode: command.mode,
        trigger: "chatops",
        requester: login,
      });
      await reply(nodeReply(result, login));
    } else {
      const executed = await executeFailover(deps.ctx, {
        service: command.service,
        action: command.action,
        dryRun: command.dryRun,
        mode: command.mode,
        trigger: "chatops",
        requester: login,
      });
      await reply(failoverReply(executed, login));
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
