import { z } from "zod";
import { HttpError, type RestRequest, type RestRoute, requireRepo } from "../rest.js";

export interface FakeComment {
  readonly id: number;
  readonly issueNumber: number;
  readonly body: string;
}
export interface FakeReaction {
  readonly commentId: number;
  readonly content: string;
  /** Who reacted: the app for reactions made through the API; tests may seed others'. */
  readonly user: string;
}
export interface FakeIssues {
  nextId: number;
  comments: FakeComment[];
  reactions: FakeReaction[];
  /** login -> role (admin, maintain, write, triage, read); others are not collaborators. */
  roles: Map<string, string>;
}

export function issuesState(request: { fake: RestRequest["fake"] }): FakeIssues {
  return request.fake.state<FakeIssues>("issues", () => ({
    nextId: 9000,
    comments: [],
    reactions: [],
    roles: new Map(),
  }));
}

const BOT = { login: "failover-api[bot]", id: 99, type: "Bot" };
const REACTIONS = ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"] as const;

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success)
    throw new HttpError(422, "Invalid request.", { errors: result.error.issues });
  return result.data;
}

/** The legacy `permission` field GitHub derives from the role. */
function legacyPermission(role: string): string {
  return (
    { admin: "admin", maintain: "write", write: "write", triage: "read", read: "read" }[role] ??
    "none"
  );
}

export const issueRoutes: readonly RestRoute[] = [
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
    handler(request) {
      requireRepo(request);
      const { content } = parse(z.object({ content: z.enum(REACTIONS) }), request.body);
      const state = issuesState(request);
      const commentId = Number(request.params.comment_id);
      // GitHub answers 200 with the existing reaction when this user already added it (one
      // reaction of each content per user): the atomic "already claimed" the app relies on.
      const existing = state.reactions.some(
        (r) => r.commentId === commentId && r.content === content && r.user === BOT.login,
      );
      if (!existing) state.reactions.push({ commentId, content, user: BOT.login });
      return { status: existing ? 200 : 201, body: { id: state.nextId++, content, user: BOT } };
    },
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    handler(request) {
      requireRepo(request);
      const { body } = parse(z.object({ body: z.string().max(65536) }), request.body);
      const state = issuesState(request);
      const comment = {
        id: state.nextId++,
        issueNumber: Number(request.params.issue_number),
        body,
      };
      state.comments.push(comment);
      return {
        status: 201,
        body: {
          id: comment.id,
          body,
          user: BOT,
          html_url: `${request.fake.webUrl}/${request.fake.owner}/${request.fake.repo}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
        },
      };
    },
  },
  {
    method: "PATCH",
    template: "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    handler(request) {
      requireRepo(request);
      const { body } = parse(z.object({ body: z.string().max(65536) }), request.body);
      const state = issuesState(request);
      const index = state.comments.findIndex((c) => c.id === Number(request.params.comment_id));
      const old = state.comments[index];
      if (old === undefined) throw new HttpError(404, "Not Found");
      const comment = { ...old, body };
      state.comments[index] = comment;
      return { status: 200, body: { id: comment.id, body, user: BOT } };
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/collaborators/{username}/permission",
    handler(request) {
      requireRepo(request);
      const login = request.params.username ?? "";
      const role = issuesState(request).roles.get(login.toLowerCase());
      if (role === undefined) throw new HttpError(404, `${login} is not a user`);
      return {
        status: 200,
        body: {
          permission: legacyPermission(role),
          role_name: role,
          user: { login, type: "User", permissions: {} },
        },
      };
    },
  },
];
