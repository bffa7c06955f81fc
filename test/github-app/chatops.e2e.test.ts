import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deploymentsState } from "../fake-github/routes/deployments.js";
import { issuesState } from "../fake-github/routes/issues.js";
import { commitCount, git, lastCommitChangedLines } from "../helpers/git.js";
import { type AppServer, startAppServer } from "../helpers/github-app-server.js";
import { issueComment } from "../helpers/webhook-payloads.js";
import { deliver } from "./deliver.js";

/** Signed webhooks from real example payloads, posted over HTTP to the running server. */
describe("ChatOps through the GitHub App", () => {
  let app: AppServer;
  beforeEach(async () => {
    app = await startAppServer({ roles: { alice: "write", bob: "read", carol: "maintain" } });
  });
  afterEach(async () => {
    await app.close();
  });
  const state = () => issuesState({ fake: app.fake.context });
  const reactions = () => state().reactions.map((r) => r.content);
  const replies = () => state().comments.map((c) => c.body);

  it("/failover sonarr promote from a writer: one commit in 2 API calls, a deployment, reactions and a reply", async () => {
    const before = commitCount(app.fake.dir);
    app.fake.resetLog();
    const res = await deliver(
      app,
      "issue_comment",
      issueComment("/failover sonarr promote", "alice"),
    );
    expect(res.status).toBe(200);

    expect(commitCount(app.fake.dir)).toBe(before + 1);
    expect(lastCommitChangedLines(app.fake.dir)).toEqual([
      "-        role: primary",
      "+        role: backup",
      "-            claimName: pvc-sonarr",
      "+            claimName: pvc-sonarr-backup",
    ]);
    const message = git(app.fake.dir, "log", "-1", "--format=%B", "main");
    expect(message).toMatch(/^failover\(sonarr\): promote to backup/);
    expect(message).toContain("Failover-Trigger: chatops\nFailover-Requester: alice");

    // The failover itself: one GraphQL read, one GraphQL write.
    const graphql = app.fake.graphqlRequests.map((r) => r.operationType);
    expect(graphql).toEqual(["query", "mutation"]);

    expect(reactions()).toEqual(["eyes", "rocket"]);
    expect(replies()).toHaveLength(1);
    expect(replies()[0]).toMatch(/@alice: sonarr moved from primary to backup in commit/);
    expect(replies()[0]).toContain("+            claimName: pvc-sonarr-backup");

    const deployments = deploymentsState({ fake: app.fake.context });
    expect(deployments).toHaveLength(1);
    expect(deployments[0]).toMatchObject({
      environment: "failover-sonarr",
      task: "failover:promote",
      sha: git(app.fake.dir, "rev-parse", "main").trim(),
      payload: { service: "sonarr", action: "promote", trigger: "chatops", requester: "alice" },
    });
    // in_progress until Flux confirms (docs/github-app.md, "Audit").
    expect(deployments[0]?.statuses.map((s) => s.state)).toEqual(["in_progress"]);
    const created = app.fake.requests.find((r) => r.path === "/repos/acme/gitops/deployments");
    expect(created?.body).toMatchObject({ auto_merge: false, required_contexts: [] });

    // The app authenticated as the installation, found through the App's JWT.
    const paths = app.fake.requests.map((r) => `${r.method} ${r.path}`);
    expect(paths).toContain("GET /repos/acme/gitops/collaborators/alice/permission");
  });

  it("a read-only user gets a refusal reply and no commit", async () => {
    const head = git(app.fake.dir, "rev-parse", "main");
    const res = await deliver(
      app,
      "issue_comment",
      issueComment("/failover sonarr promote", "bob"),
    );
    expect(res.status).toBe(200);
    expect(git(app.fake.dir, "rev-parse", "main")).toBe(head);
    expect(replies()).toEqual([
      expect.stringMatching(
        /@bob: failover commands need write or maintain or admin permission on acme\/gitops; you have `read`/,
      ),
    ]);
    expect(reactions()).toEqual(["eyes", "confused"]);
    expect(deploymentsState({ fake: app.fake.context })).toEqual([]);
  });

  it("a non-collaborator is refused too", async () => {
    await deliver(app, "issue_comment", issueComment("/failover sonarr promote", "mallory"));
    expect(replies()[0]).toMatch(/you have `none`/);
    expect(commitCount(app.fake.dir)).toBe(1);
  });

  it("promote twice: the second is a no-op reply, no commit, no deployment", async () => {
    await deliver(app, "issue_comment", issueComment("/failover sonarr promote", "carol"));
    const after = commitCount(app.fake.dir);
    await deliver(app, "issue_comment", issueComment("/failover sonarr promote", "carol"));
    expect(commitCount(app.fake.dir)).toBe(after);
    expect(replies()[1]).toMatch(/sonarr is already on backup; nothing to do/);
    expect(deploymentsState({ fake: app.fake.context })).toHaveLength(1);
  });

  it("dry run replies with the diff and writes nothing", async () => {
    await deliver(
      app,
      "issue_comment",
      issueComment("/failover sonarr promote --dry-run", "alice"),
    );
    expect(commitCount(app.fake.dir)).toBe(1);
    expect(replies()[0]).toMatch(/dry run: promote would move sonarr from primary to backup/);
    expect(replies()[0]).toContain("```diff");
  });

  it("status, list and help answer; unknown commands get the usage text", async () => {
    await deliver(app, "issue_comment", issueComment("/failover sonarr status", "alice"));
    await deliver(app, "issue_comment", issueComment("/failover list", "alice"));
    await deliver(app, "issue_comment", issueComment("/failover help", "bob"));
    await deliver(app, "issue_comment", issueComment("/failover sonarr explode", "alice"));
    const [status, list, help, usage] = replies();
    expect(status).toMatch(
      /\*\*sonarr\*\* is on \*\*primary\*\*: node `primary`, claim `pvc-sonarr`/,
    );
    expect(list).toMatch(/\| `radarr` \|[\s\S]*\| `sonarr` \|/);
    expect(help).toContain("/failover <service> promote");
    expect(usage).toMatch(/😕[\s\S]*\*\*Usage:\*\*/);
    expect(commitCount(app.fake.dir)).toBe(1);
  });

  it("an unknown service gets a reply naming the configured ones, and a failed deployment is not recorded", async () => {
    await deliver(app, "issue_comment", issueComment("/failover lidarr promote", "alice"));
    expect(replies()[0]).toMatch(/not_found: unknown service "lidarr"; configured: radarr, sonarr/);
    expect(reactions()).toEqual(["eyes", "confused"]);
  });

  it("ignores comments without a command, from bots, edits, and other repositories", async () => {
    await deliver(app, "issue_comment", issueComment("looks good to me", "alice"));
    const bot = issueComment("/failover sonarr promote", "failover-api[bot]");
    (bot.sender as Record<string, unknown>).type = "Bot";
    await deliver(app, "issue_comment", bot);
    const edited = { ...issueComment("/failover sonarr promote", "alice"), action: "edited" };
    await deliver(app, "issue_comment", edited);
    const elsewhere = issueComment("/failover sonarr promote", "alice");
    (elsewhere.repository as Record<string, unknown>).full_name = "acme/other";
    await deliver(app, "issue_comment", elsewhere);
    expect(replies()).toEqual([]);
    expect(reactions()).toEqual([]);
    expect(commitCount(app.fake.dir)).toBe(1);
  });

  it("rejects a webhook with a bad signature and does nothing", async () => {
    const res = await deliver(
      app,
      "issue_comment",
      issueComment("/failover sonarr promote", "alice"),
      {
        secret: "wrong",
      },
    );
    expect(res.status).toBe(400);
    expect(commitCount(app.fake.dir)).toBe(1);
    expect(replies()).toEqual([]);
  });
});
