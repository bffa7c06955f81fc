import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitCount, git } from "../helpers/git.js";
import { type DemoServer, startDemoServer } from "../helpers/http-server.js";

/**
 * A write route's input is validated strictly: a misspelled dry run must be a 400, never a
 * failover. Every refusal leaves the branch where it was.
 */
describe("write routes refuse input they do not understand", () => {
  let server: DemoServer;
  beforeAll(async () => {
    server = await startDemoServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const head = () => git(server.repoDir, "rev-parse", "main").trim();
  const send = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${server.url}${path}`, { method: "POST", ...init });
    return {
      status: res.status,
      body: (await res.json()) as {
        outcome?: string;
        error?: { code: string; message: string; details?: { suggestion?: string } };
      },
    };
  };
  const json = (body: string, type = "application/json") => ({
    body,
    headers: { "content-type": type },
  });

  const WRITE_ROUTES = [
    "/api/failover/sonarr/promote",
    "/api/failover/sonarr/demote",
    "/api/nodes/primary/promote",
    "/api/nodes/primary/demote",
    "/api/failover/sonarr/lock",
    "/api/failover/sonarr/unlock",
  ];

  it.each([
    ["DRY-RUN=true", "dry-run"],
    ["dryrun=true", "dry-run"],
    ["dryRun=true", "dry-run"],
    ["dry-run[]=true", "dry-run"],
    ["dry-run%00=true", "dry-run"],
    ["%20dry-run=true", "dry-run"],
    ["Dry_Run=1", "dry-run"],
    ["dry-rn=true", "dry-run"],
    ["preview=true", "dry-run"],
    ["MODE=pr", "mode"],
    ["mdoe=pr", undefined],
    ["x=1", undefined],
  ])(
    "POST promote?%s is a 400 (did you mean %s?) and writes nothing",
    async (query, suggestion) => {
      const before = head();
      const { status, body } = await send(`/api/failover/sonarr/promote?${query}`);
      expect(status).toBe(400);
      expect(body.error?.code).toBe("invalid_input");
      expect(body.error?.message).toMatch(/unknown query parameter/);
      expect(body.error?.details?.suggestion).toBe(suggestion);
      if (suggestion !== undefined)
        expect(body.error?.message).toContain(`did you mean "${suggestion}"?`);
      expect(head()).toBe(before);
    },
  );

  it("every write route refuses an unknown parameter, a repeated one and bad JSON", async () => {
    const before = head();
    for (const route of WRITE_ROUTES) {
      for (const [suffix, init] of [
        ["?DRY-RUN=true", {}],
        ["?dry-run=true&dry-run=true", {}],
        ["?reason=a&reason=b", {}],
        ["", json("{")],
        ["", json('{"dry_run": true,}')],
        ["", json("[]")],
        ["", json("null")],
        ["", json('"dry_run"')],
        ["", json('{"preview": true}')],
        ["", json('{"dry_run": true}', "text/plain")],
        ["", json('{"dry_run": true}', "application/x-www-form-urlencoded")],
        ["", { body: "dry_run=true" }],
      ] as const) {
        const { status, body } = await send(`${route}${suffix}`, init);
        expect([400, 415], `${route}${suffix} ${JSON.stringify(init)}`).toContain(status);
        expect(body.error?.code).toBe("invalid_input");
      }
    }
    expect(head()).toBe(before);
  });

  it("a JSON body as Home Assistant's payload: sends it is honoured: dry_run writes nothing", async () => {
    const before = head();
    const { status, body } = await send(
      "/api/failover/sonarr/promote",
      json('{"dry_run": true}', "application/json; charset=utf-8"),
    );
    expect(status).toBe(200);
    expect(body.outcome).toBe("dry_run");
    const node = await send("/api/nodes/primary/promote", json('{"dry_run": true}'));
    expect(node).toMatchObject({ status: 200, body: { outcome: "dry_run" } });
    expect(head()).toBe(before);
  });

  it.each([
    ['{"dry-run": true}', "dry_run"],
    ['{"dryRun": true}', "dry_run"],
    ['{"DRY_RUN": true}', "dry_run"],
    ['{"preview": true}', "dry_run"],
    ['{"Mode": "pr"}', "mode"],
  ])("body %s is a 400 (did you mean %s?)", async (text, suggestion) => {
    const before = head();
    const { status, body } = await send("/api/failover/sonarr/promote", json(text));
    expect(status).toBe(400);
    expect(body.error?.message).toMatch(/unknown body field/);
    expect(body.error?.details?.suggestion).toBe(suggestion);
    expect(head()).toBe(before);
  });

  it("wrong types in the body, and query and body that disagree, are 400", async () => {
    const before = head();
    for (const [path, text] of [
      ["/api/failover/sonarr/promote", '{"dry_run": "true"}'],
      ["/api/failover/sonarr/promote", '{"dry_run": 1}'],
      ["/api/failover/sonarr/promote", '{"mode": "later"}'],
      ["/api/failover/sonarr/promote?dry-run=false", '{"dry_run": true}'],
      ["/api/failover/sonarr/promote?dry-run=true", '{"dry_run": false}'],
      ["/api/failover/sonarr/promote?mode=urgent", '{"mode": "pr"}'],
      ["/api/failover/sonarr/promote", '{"reason": "lock fields are not promote fields"}'],
      ["/api/failover/sonarr/lock", '{"reason": 5}'],
      ["/api/failover/sonarr/lock?reason=a", '{"reason": "b"}'],
      ["/api/failover/sonarr/lock", '{"dry_run": true}'],
    ] as const) {
      const { status, body } = await send(path, json(text));
      expect(status, `${path} ${text}`).toBe(400);
      expect(body.error?.code).toBe("invalid_input");
    }
    expect(head()).toBe(before);
  });

  it("GET previews with ?dry-run=true still work; a misspelled GET preview is a 400, not a 405", async () => {
    const before = head();
    const res = await fetch(`${server.url}/api/failover/sonarr/promote?dry-run=true`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { outcome: string }).outcome).toBe("dry_run");
    const typo = await fetch(`${server.url}/api/failover/sonarr/promote?dryrun=true`);
    expect(typo.status).toBe(400);
    expect(head()).toBe(before);
  });

  it("the documented forms still write: ?dry-run=false, an empty body, a JSON body, lock with reason", async () => {
    const count = commitCount(server.repoDir);
    const dry = await send("/api/failover/sonarr/promote?dry-run=true");
    expect(dry).toMatchObject({ status: 200, body: { outcome: "dry_run" } });
    const promote = await send("/api/failover/sonarr/promote?dry-run=false");
    expect(promote).toMatchObject({ status: 200, body: { outcome: "applied" } });
    const demote = await send(
      "/api/failover/sonarr/demote",
      json('{"dry_run": false, "mode": "urgent"}'),
    );
    expect(demote).toMatchObject({ status: 200, body: { outcome: "applied" } });
    const lock = await send("/api/failover/sonarr/lock", json('{"reason": "NAS maintenance"}'));
    expect(lock).toMatchObject({ status: 200, body: { outcome: "locked" } });
    expect(git(server.repoDir, "show", "main:.failover/locks/sonarr.yaml")).toContain(
      "NAS maintenance",
    );
    const unlock = await send("/api/failover/sonarr/unlock", { body: "" });
    expect(unlock).toMatchObject({ status: 200, body: { outcome: "unlocked" } });
    expect(commitCount(server.repoDir)).toBe(count + 4);
  });
});
