import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { issuesState } from "../fake-github/routes/issues.js";
import { commitCount, git } from "../helpers/git.js";
import { type AppServer, startAppServer } from "../helpers/github-app-server.js";
import { issueComment } from "../helpers/webhook-payloads.js";
import { deliver } from "./deliver.js";

const LOCK_FILE = ".failover/locks/sonarr.yaml";

/** A flag on `/failover lock` (review finding 6): a usage reply, never a lock with that reason. */
describe("ChatOps lock flags through the GitHub App", () => {
  let app: AppServer;
  beforeEach(async () => {
    app = await startAppServer({ roles: { alice: "write" } });
  });
  afterEach(async () => {
    await app.close();
  });
  const state = () => issuesState({ fake: app.fake.context });
  const lockFiles = () => git(app.fake.dir, "ls-tree", "-r", "--name-only", "main", ".failover/");

  it("`/failover lock sonarr --dry-run` writes no lock and replies naming the flag", async () => {
    const head = git(app.fake.dir, "rev-parse", "main");
    const res = await deliver(
      app,
      "issue_comment",
      issueComment("/failover lock sonarr --dry-run", "alice"),
    );
    expect(res.status).toBe(200);
    expect(git(app.fake.dir, "rev-parse", "main")).toBe(head);
    expect(lockFiles()).toBe("");
    expect(state().comments.map((c) => c.body)).toEqual([
      expect.stringMatching(/😕 lock has no dry run, found `--dry-run`: nothing was locked/),
    ]);
    expect(state().reactions.map((r) => r.content)).toEqual(["eyes", "confused"]);
  });

  it("a reason after `--` may start with a dash: that lock is written", async () => {
    await deliver(
      app,
      "issue_comment",
      issueComment("/failover lock sonarr -- --not-a-flag", "alice"),
    );
    expect(commitCount(app.fake.dir)).toBe(2);
    expect(git(app.fake.dir, "show", `main:${LOCK_FILE}`)).toMatch(/reason: "?--not-a-flag"?/);
    expect(state().comments.map((c) => c.body)).toEqual([expect.stringMatching(/🔒 @alice/)]);
  });
});
