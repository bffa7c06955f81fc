import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { issuesState } from "../fake-github/routes/issues.js";
import { commitCount, git } from "../helpers/git.js";
import { type AppServer, startAppServer } from "../helpers/github-app-server.js";
import { issueComment } from "../helpers/webhook-payloads.js";
import { deliver } from "./deliver.js";

/** Signed deliveries to the real server (two, for two replicas) on one fake GitHub. */
describe("ChatOps: a comment runs at most once", () => {
  let app: AppServer;
  let replica: AppServer | undefined;
  beforeEach(async () => {
    app = await startAppServer({ roles: { alice: "write" } });
  });
  afterEach(async () => {
    await replica?.close();
    replica = undefined;
    await app.close();
  });
  const state = () => issuesState({ fake: app.fake.context });
  const replies = () => state().comments.map((c) => c.body);
  const reactions = () => state().reactions.map((r) => r.content);
  const head = () => git(app.fake.dir, "rev-parse", "main").trim();
  const http = async (path: string) => {
    const res = await fetch(`${app.url}${path}`, { method: "POST" });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("redelivering a promote after a demote (same delivery id, then GitHub's redeliver): no commit, no reply", async () => {
    const payload = issueComment("/failover sonarr promote", "alice");
    const first = await deliver(app, "issue_comment", payload, { deliveryId: "d-1" });
    expect(first.status).toBe(200);
    expect(replies()).toHaveLength(1);
    expect((await http("/api/failover/sonarr/demote")).status).toBe(200);
    const afterDemote = commitCount(app.fake.dir);
    const demoted = head();

    // The same signed delivery again, then a redelivery (a new delivery id, same payload).
    expect((await deliver(app, "issue_comment", payload, { deliveryId: "d-1" })).status).toBe(200);
    expect((await deliver(app, "issue_comment", payload, { deliveryId: "d-2" })).status).toBe(200);

    expect(commitCount(app.fake.dir)).toBe(afterDemote);
    expect(head()).toBe(demoted);
    expect(replies()).toHaveLength(1);
    expect(reactions()).toEqual(["eyes", "rocket"]);
  });

  it("a restarted app (a new server, same GitHub) does not run an old comment again", async () => {
    const payload = issueComment("/failover sonarr promote", "alice");
    await deliver(app, "issue_comment", payload);
    const commits = commitCount(app.fake.dir);
    replica = await startAppServer({ roles: { alice: "write" }, fake: app.fake });
    await deliver(replica, "issue_comment", payload);
    expect(commitCount(app.fake.dir)).toBe(commits);
    expect(replies()).toHaveLength(1);
  });

  it("two replicas receiving the same delivery at once: one commit, one reply", async () => {
    replica = await startAppServer({ roles: { alice: "write" }, fake: app.fake });
    const before = commitCount(app.fake.dir);
    const payload = issueComment("/failover sonarr promote", "alice");
    const answers = await Promise.all([
      deliver(app, "issue_comment", payload, { deliveryId: "d-9" }),
      deliver(replica, "issue_comment", payload, { deliveryId: "d-9" }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(commitCount(app.fake.dir)).toBe(before + 1);
    expect(replies()).toHaveLength(1);
    expect(replies()[0]).toMatch(/sonarr moved from primary to backup/);
  });

  it("someone else's 👀 on the comment does not stop it: the claim is the app's own reaction", async () => {
    const payload = issueComment("/failover sonarr status", "alice");
    const commentId = (payload.comment as { id: number }).id;
    state().reactions.push({ commentId, content: "eyes", user: "alice" });
    await deliver(app, "issue_comment", payload);
    expect(replies()).toEqual([expect.stringMatching(/\*\*sonarr\*\* is on \*\*primary\*\*/)]);
  });

  it("when the 👀 cannot be created, the command does not run (fail closed)", async () => {
    app.fake.inject({
      match: { method: "POST", path: /\/issues\/comments\/\d+\/reactions$/ },
      respond: { status: 404 },
      times: Number.POSITIVE_INFINITY,
    });
    const before = commitCount(app.fake.dir);
    await deliver(app, "issue_comment", issueComment("/failover sonarr promote", "alice"));
    expect(commitCount(app.fake.dir)).toBe(before);
    expect(replies()).toEqual([]);
  });
});

/**
 * One app for all the cases below: each asserts that nothing happened (no commit, reply or
 * reaction), so none changes what the next one starts from, and a server per case was most
 * of this file's CPU. Should a case wrongly run its command, it fails on its own assertions.
 */
describe("ChatOps: commands in code, quotes or HTML never run", () => {
  let app: AppServer;
  beforeAll(async () => {
    app = await startAppServer({ roles: { alice: "write" } });
  });
  afterAll(async () => {
    await app.close();
  });
  const state = () => issuesState({ fake: app.fake.context });
  const replies = () => state().comments.map((c) => c.body);
  const reactions = () => state().reactions.map((r) => r.content);
  const head = () => git(app.fake.dir, "rev-parse", "main").trim();

  it.each([
    ["indented code", "Ran this:\n\n    /failover sonarr promote\n"],
    ["a tab-indented line", "\t/failover sonarr promote"],
    ["a fence", "```\n/failover sonarr promote\n```"],
    ["a <pre> block", "<pre>\n/failover sonarr promote\n</pre>"],
    ["a <code> block", "<code>\n\n/failover sonarr promote\n\n</code>"],
    ["a quote of someone's command", "> Alice wrote:\n>\n> /failover sonarr promote"],
    ["a quote's lazy line", "> Alice wrote:\n/failover sonarr promote"],
    ["a list item", "- [ ] /failover sonarr promote"],
    ["a setext heading", "/failover sonarr promote\n---"],
  ])("a command in %s: no reaction, no reply, no commit", async (_name, body) => {
    const before = head();
    const res = await deliver(app, "issue_comment", issueComment(body, "alice"));
    expect(res.status).toBe(200);
    expect(head()).toBe(before);
    expect(replies()).toEqual([]);
    expect(reactions()).toEqual([]);
  });
});
