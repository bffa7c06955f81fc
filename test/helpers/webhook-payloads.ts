import examples from "@octokit/webhooks-examples/api.github.com/index.json" with { type: "json" };
import { INSTALLATION_ID } from "../fake-github/routes/app.js";

type Json = Record<string, unknown>;

/** A real example payload from @octokit/webhooks-examples, deep-copied. */
export function examplePayload(event: string, action?: string): Json {
  const group = (examples as { name: string; examples: Json[] }[]).find((e) => e.name === event);
  const example = group?.examples.find((e) => action === undefined || e.action === action);
  if (example === undefined) throw new Error(`no example for ${event}.${action ?? ""}`);
  return structuredClone(example);
}

/** Points an example payload at the fake's repository and installation. */
export function onGitOpsRepo(payload: Json, sender: string): Json {
  const repository = payload.repository as Json;
  repository.name = "gitops";
  repository.full_name = "acme/gitops";
  (repository.owner as Json).login = "acme";
  const user = { ...(payload.sender as Json), login: sender, type: "User" };
  return { ...payload, repository, sender: user, installation: { id: INSTALLATION_ID } };
}

let nextCommentId = 1_000_000;

/** A new comment each call (its own id, as on GitHub), unless `commentId` says which. */
export function issueComment(
  body: string,
  sender: string,
  extra: { issue?: number; commentId?: number } = {},
): Json {
  const payload = onGitOpsRepo(examplePayload("issue_comment", "created"), sender);
  const comment = payload.comment as Json;
  comment.id = extra.commentId ?? nextCommentId++;
  comment.body = body;
  comment.user = { ...(comment.user as Json), login: sender, type: "User" };
  (payload.issue as Json).number = extra.issue ?? 7;
  return payload;
}
