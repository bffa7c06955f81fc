import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git } from "../helpers/git.js";
import { type OpsServer, startOpsServer } from "../ops/ops-server.js";

/**
 * A leaked token is removed from FAILOVER_API_TOKENS_FILE: the browser sessions signed in
 * with it end at their next request (no write lands), while the other tokens' go on.
 */
const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdef01";
const FORM = { "content-type": "application/x-www-form-urlencoded" };

function csrfOf(page: string): string {
  const found = /X-CSRF-Token&quot;:&quot;([A-Za-z0-9_-]+)&quot;/.exec(page)?.[1];
  if (found === undefined) throw new Error("no CSRF token in the page");
  return found;
}

describe("web sessions of a revoked token", () => {
  let server: OpsServer;
  let dir: string;
  let tokensFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "failover-api-revoked-"));
    tokensFile = join(dir, "tokens");
    await writeFile(tokensFile, `alice:${ALICE}\nbob:${BOB}\n`);
    server = await startOpsServer({ FAILOVER_API_TOKENS_FILE: tokensFile });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const signIn = async (token: string) => {
    const res = await server.call("/ui/session", {
      method: "POST",
      headers: FORM,
      body: `token=${token}`,
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const page = await (await server.call("/", { headers: { cookie } })).text();
    return { cookie, csrf: csrfOf(page), page };
  };
  const promoteNode = (session: { cookie: string; csrf: string }) =>
    server.call("/ui/nodes/primary/promote", {
      method: "POST",
      headers: { ...FORM, cookie: session.cookie, "x-csrf-token": session.csrf },
      body: "confirm=primary",
    });

  it("refuses the next write of a session whose token was removed, and writes nothing", async () => {
    const alice = await signIn(ALICE);
    const bob = await signIn(BOB);
    expect(alice.page).toContain("Signed in as alice");

    await writeFile(tokensFile, `bob:${BOB}\n`);
    server.operations.auth.reloadFile();

    const head = git(server.repoDir, "rev-parse", "main");
    const refused = await promoteNode(alice);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("hx-refresh")).toBe("true");
    expect(await refused.text()).toContain("sign in again");
    expect(git(server.repoDir, "rev-parse", "main")).toBe(head);
    // The page asks for a token again, and the session stays ended.
    const page = await (await server.call("/", { headers: { cookie: alice.cookie } })).text();
    expect(page).toContain('name="token"');
    expect(page).not.toContain("row-sonarr");
    expect((await server.call("/ui/services", { headers: { cookie: alice.cookie } })).status).toBe(
      401,
    );
    // The revoked token cannot sign in again either.
    const again = await server.call("/ui/session", {
      method: "POST",
      headers: FORM,
      body: `token=${ALICE}`,
    });
    expect(again.status).toBe(401);

    // Another token's session is untouched: its write lands, in one commit, as bob.
    const landed = await promoteNode(bob);
    expect(landed.status).toBe(200);
    const newHead = git(server.repoDir, "rev-parse", "main").trim();
    expect(git(server.repoDir, "rev-list", "--count", `${head.trim()}..${newHead}`).trim()).toBe(
      "1",
    );
    expect(git(server.repoDir, "log", "-1", "--format=%B", "main")).toContain(
      "Failover-Requester: token bob",
    );
  });

  it("ends a session whose token was given to another name (commits would name the wrong person)", async () => {
    await writeFile(tokensFile, `bob:${BOB}\n`);
    server.operations.auth.reloadFile();
    const bob = await signIn(BOB);
    await writeFile(tokensFile, `carol:${BOB}\n`);
    server.operations.auth.reloadFile();
    const head = git(server.repoDir, "rev-parse", "main");
    expect((await promoteNode(bob)).status).toBe(401);
    expect(git(server.repoDir, "rev-parse", "main")).toBe(head);
    expect(server.logs.text).not.toContain(BOB);
    expect(server.logs.text).not.toContain(ALICE);
  });
});
