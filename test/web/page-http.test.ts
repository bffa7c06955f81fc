import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git } from "../helpers/git.js";
import { type OpsServer, startOpsServer } from "../ops/ops-server.js";

/**
 * The page's HTTP contract without a browser (so it runs everywhere): headers, sessions,
 * CSRF, the typed confirmation, and that every write lands in Git or nothing does.
 */
const TOKEN = "page-http-token-0123456789abcdef";
const FORM = { "content-type": "application/x-www-form-urlencoded" };

function cookieOf(res: Response): string {
  const set = res.headers.get("set-cookie") ?? "";
  return set.split(";")[0] ?? "";
}

function csrfOf(page: string): string {
  const found = /X-CSRF-Token&quot;:&quot;([A-Za-z0-9_-]+)&quot;/.exec(page)?.[1];
  if (found === undefined) throw new Error("no CSRF token in the page");
  return found;
}

describe("the page without tokens (the demo)", () => {
  let server: OpsServer;
  let cookie: string;
  let csrf: string;

  beforeAll(async () => {
    server = await startOpsServer();
    const res = await server.call("/");
    cookie = cookieOf(res);
    csrf = csrfOf(await res.text());
  });
  afterAll(async () => {
    await server?.close();
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    server.call(path, {
      method: "POST",
      body,
      headers: { ...FORM, cookie, "x-csrf-token": csrf, ...headers },
    });

  it("serves the page with a strict CSP and an HttpOnly, SameSite=Strict session cookie", async () => {
    const res = await server.call("/");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    const set = res.headers.get("set-cookie") ?? "";
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).not.toMatch(/Secure/);
    // Behind a TLS-terminating ingress the browser speaks HTTPS: the cookie says Secure.
    const proxied = await server.call("/", { headers: { "x-forwarded-proto": "https" } });
    expect(proxied.headers.get("set-cookie") ?? "").toMatch(/; Secure/);
    const page = await res.text();
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(page).not.toMatch(/\sstyle=/);
    expect(page).toContain('id="row-sonarr"');
    expect(page).toContain('aria-label="Promote sonarr"');
  });

  it("serves htmx from its npm package, not a CDN", async () => {
    const require = createRequire(import.meta.url);
    const pinned = readFileSync(require.resolve("htmx.org/dist/htmx.min.js"), "utf8");
    const res = await server.call("/assets/htmx.min.js");
    expect(res.headers.get("content-type")).toContain("javascript");
    expect(await res.text()).toBe(pinned);
    expect((await server.call("/assets/app.js")).status).toBe(200);
    expect((await server.call("/assets/app.css")).status).toBe(200);
  });

  it("writes nothing without the typed name, the CSRF token, or from another origin", async () => {
    const head = git(server.repoDir, "rev-parse", "main");
    const wrongName = await post("/ui/services/sonarr/promote", "confirm=radarr");
    expect(wrongName.status).toBe(400);
    expect(await wrongName.text()).toContain("type sonarr to confirm");
    expect((await post("/ui/services/sonarr/promote", "")).status).toBe(400);
    expect(
      (await post("/ui/services/sonarr/promote", "confirm=sonarr", { "x-csrf-token": "x" })).status,
    ).toBe(403);
    const crossSite = await post("/ui/services/sonarr/promote", "confirm=sonarr", {
      origin: "https://evil.example",
    });
    expect(crossSite.status).toBe(403);
    expect(
      (await post("/ui/services/sonarr/promote", "confirm=sonarr&confirm=sonarr")).status,
    ).toBe(400);
    expect((await post("/ui/services/sonarr/promote", "confirm=sonarr&dry_run=true")).status).toBe(
      400,
    );
    expect(git(server.repoDir, "rev-parse", "main")).toBe(head);
  });

  it("promotes with the typed name, in one commit, and the table shows it", async () => {
    const head = git(server.repoDir, "rev-parse", "main");
    const res = await post("/ui/services/sonarr/promote", "confirm=sonarr");
    expect(res.status).toBe(200);
    expect(res.headers.get("hx-trigger")).toBe("refresh");
    const newHead = git(server.repoDir, "rev-parse", "main");
    expect(
      git(server.repoDir, "rev-list", "--count", `${head.trim()}..${newHead.trim()}`).trim(),
    ).toBe("1");
    expect(await res.text()).toContain(newHead.slice(0, 12));
    const table = await (await server.call("/ui/services", { headers: { cookie } })).text();
    expect(table).toMatch(/<tr id="row-sonarr"[\s\S]*?state-backup/);
  });

  it("shows a locked service's refusal as 423 and writes nothing", async () => {
    expect((await post("/ui/services/radarr/lock", "reason=maintenance")).status).toBe(200);
    const head = git(server.repoDir, "rev-parse", "main");
    const res = await post("/ui/services/radarr/promote", "confirm=radarr");
    expect(res.status).toBe(423);
    expect(await res.text()).toMatch(/role="alert"[\s\S]*423 locked[\s\S]*maintenance/);
    expect(git(server.repoDir, "rev-parse", "main")).toBe(head);
    expect((await post("/ui/services/radarr/unlock", "")).status).toBe(200);
  });

  it("moves a whole node in one commit after its name is typed", async () => {
    const head = git(server.repoDir, "rev-parse", "main").trim();
    const dialog = await (
      await server.call("/ui/nodes/primary/confirm?action=promote", { headers: { cookie } })
    ).text();
    expect(dialog).toContain("Type primary to confirm");
    expect(git(server.repoDir, "rev-parse", "main").trim()).toBe(head);
    expect((await post("/ui/nodes/primary/promote", "confirm=sonarr")).status).toBe(400);
    const res = await post("/ui/nodes/primary/promote", "confirm=primary");
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/<strong>radarr<\/strong>: changed/);
    const newHead = git(server.repoDir, "rev-parse", "main").trim();
    expect(git(server.repoDir, "rev-list", "--count", `${head}..${newHead}`).trim()).toBe("1");
    expect((await post("/ui/nodes/primary/demote", "confirm=primary")).status).toBe(200);
  });

  it("escapes what Git and people wrote (a lock reason is text, never markup)", async () => {
    const reason = `<img src=x onerror="alert(1)">&"'`;
    const lock = await server.call(
      `/api/failover/sonarr/lock?reason=${encodeURIComponent(reason)}`,
      { method: "POST" },
    );
    expect(lock.status).toBe(200);
    const page = await (await server.call("/", { headers: { cookie } })).text();
    expect(page).not.toContain("<img src=x");
    expect(page).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&quot;&#39;");
    expect((await server.call("/api/failover/sonarr/unlock", { method: "POST" })).status).toBe(200);
  });

  it("previews without writing, and answers a bad action or service with a 4xx", async () => {
    const head = git(server.repoDir, "rev-parse", "main");
    const preview = await server.call("/ui/services/sonarr/preview?action=demote", {
      headers: { cookie },
    });
    expect(preview.status).toBe(200);
    expect(await preview.text()).toContain("dry_run");
    expect((await server.call("/ui/services/sonarr/preview?action=delete")).status).toBe(400);
    expect((await server.call("/ui/services/nope/confirm?action=promote")).status).toBe(404);
    expect(git(server.repoDir, "rev-parse", "main")).toBe(head);
  });
});

describe("the page with API tokens", () => {
  let server: OpsServer;

  beforeAll(async () => {
    server = await startOpsServer({
      FAILOVER_API_TOKENS: `alice:${TOKEN}`,
      FAILOVER_AUTH_READS: "true",
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("asks for a token, then keeps a session for the page only", async () => {
    const first = await server.call("/");
    expect(first.status).toBe(200);
    const signIn = await first.text();
    expect(signIn).toContain('name="token"');
    expect(signIn).not.toContain("row-sonarr");
    expect((await server.call("/ui/services")).status).toBe(401);

    const wrong = await server.call("/ui/session", {
      method: "POST",
      headers: FORM,
      body: "token=nope",
    });
    expect(wrong.status).toBe(401);
    const ok = await server.call("/ui/session", {
      method: "POST",
      headers: FORM,
      body: `token=${TOKEN}`,
      redirect: "manual",
    });
    expect(ok.status).toBe(303);
    const cookie = cookieOf(ok);
    expect(ok.headers.get("set-cookie")).toMatch(
      /HttpOnly.*SameSite=Strict|SameSite=Strict.*HttpOnly/,
    );
    const page = await (await server.call("/", { headers: { cookie } })).text();
    expect(page).toContain("Signed in as alice");
    const csrf = csrfOf(page);

    const head = git(server.repoDir, "rev-parse", "main");
    const res = await server.call("/ui/services/sonarr/promote", {
      method: "POST",
      headers: { ...FORM, cookie, "x-csrf-token": csrf },
      body: "confirm=sonarr",
    });
    expect(res.status).toBe(200);
    expect(git(server.repoDir, "rev-parse", "main")).not.toBe(head);
    expect(git(server.repoDir, "log", "-1", "--format=%B", "main")).toContain(
      "Failover-Requester: token alice",
    );

    // The cookie is no bearer token: the API still asks for one.
    expect((await server.call("/api/status", { headers: { cookie } })).status).toBe(401);

    const out = await server.call("/ui/session/end", {
      method: "POST",
      headers: { ...FORM, cookie },
      body: `csrf=${csrf}`,
      redirect: "manual",
    });
    expect(out.status).toBe(303);
    expect((await server.call("/ui/services", { headers: { cookie } })).status).toBe(401);
    // Neither the token nor the session id is ever logged.
    expect(server.logs.text).not.toContain(TOKEN);
    expect(server.logs.text).not.toContain(cookie.split("=")[1] ?? "none");
  });
});
