import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitCount, git } from "../helpers/git.js";
import { type AppServer, demoFiles, startAppServer } from "../helpers/github-app-server.js";

/** A hand-written lock file that is not clearly valid locks, through the HTTP API. */
describe("a broken lock file locks (HTTP API, GitHub mode)", () => {
  let app: AppServer;
  beforeEach(async () => {
    app = await startAppServer({
      files: {
        ...demoFiles(),
        ".failover/locks/sonarr.yaml": 'locked: "true"\nservice: sonarr\nby: bob\n',
      },
    });
  });
  afterEach(async () => {
    await app.close();
  });
  const call = async (path: string) => {
    const res = await fetch(`${app.url}${path}`, { method: "POST" });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const head = () => git(app.fake.dir, "rev-parse", "main").trim();

  it("promote is refused 423 naming the file and the fix, head unchanged; unlock rewrites it, then promote runs", async () => {
    const before = head();
    const refused = await call("/api/failover/sonarr/promote");
    expect(refused.status).toBe(423);
    expect(refused.body).toMatchObject({
      error: {
        code: "locked",
        message: expect.stringMatching(
          /\.failover\/locks\/sonarr\.yaml is not valid \(locked must be true or false.*found "\\"true\\""\); run \/failover unlock sonarr .*or fix the file/,
        ),
      },
    });
    expect(head()).toBe(before);
    expect(commitCount(app.fake.dir)).toBe(1);

    expect((await call("/api/failover/sonarr/unlock")).status).toBe(200);
    expect(git(app.fake.dir, "show", "main:.failover/locks/sonarr.yaml")).toContain(
      "locked: false",
    );
    const promoted = await call("/api/failover/sonarr/promote");
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ outcome: "applied" });
  });
});
