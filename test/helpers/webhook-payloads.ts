import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { INSTALLATION_ID } from "../fake-github/routes/app.js";

type Json = Record<string, unknown>;
type ExampleGroup = { name: string; examples: Json[] };

/**
 * @octokit/webhooks-examples' 4.3 MB index, parsed once per worker process (on globalThis:
 * vitest evaluates this module again for each file a worker runs). Imported as a JSON
 * module instead, it went through vite's transform and kept about 150 MB alive in every
 * worker, and a fat worker pays for each git process it spawns (fork copies its page
 * tables): that was a third of the suite's system time.
 */
const EXAMPLES = Symbol.for("failover-api.test.webhook-examples");

function examples(): readonly ExampleGroup[] {
  const cache = globalThis as { [EXAMPLES]?: readonly ExampleGroup[] };
  if (cache[EXAMPLES] === undefined) {
    const file = createRequire(import.meta.url).resolve(
      "@octokit/webhooks-examples/api.github.com/index.json",
    );
    cache[EXAMPLES] = JSON.parse(readFileSync(file, "utf8")) as ExampleGroup[];
  }
  return cache[EXAMPLES];
}

/** A real example payload from @octokit/webhooks-examples, deep-copied. */
export function examplePayload(event: string, action?: string): Json {
  const group = examples().find((e) => e.name === event);
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
