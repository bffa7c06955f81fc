import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import {
  type FakeGitHub,
  HttpError,
  type RestRoute,
  startFakeGitHub,
} from "../fake-github/index.js";
import { appSettings } from "../fake-github/routes/app.js";
import { cliArgs } from "../helpers/cli-process.js";
import { demoRepoFiles } from "../helpers/files.js";
import { freePort, portWasTaken } from "../helpers/server-process.js";
import { testKeyPair } from "../helpers/test-keys.js";
import { ROOT } from "./render.js";

/**
 * `npm start -- --setup` end to end, as two real processes against the fake GitHub:
 * the setup page's form is what GitHub's manifest flow documents; the fake GitHub's
 * conversion (POST /app-manifests/{code}/conversions, a route of GitHub's OpenAPI) answers
 * a new App with a real key pair; the .env file written from it then starts `serve` in
 * GitHub App mode, ready.
 */
const CODE = "v1.3f2a9c0d7e6b5a4c";
const APP_ID = 90210;
const key = testKeyPair("app", "pkcs1");

/** GitHub's documented manifest parameters (the manifest flow's table). */
const DOCUMENTED = [
  "name",
  "url",
  "description",
  "hook_attributes",
  "redirect_url",
  "callback_urls",
  "setup_url",
  "public",
  "default_permissions",
  "default_events",
  "request_oauth_on_install",
  "setup_on_update",
];

const conversions: string[] = [];
const conversionRoute: RestRoute = {
  method: "POST",
  template: "/app-manifests/{code}/conversions",
  handler(request) {
    const code = request.params.code ?? "";
    conversions.push(code);
    if (code !== CODE || conversions.filter((c) => c === code).length > 1) {
      throw new HttpError(404, "Not Found");
    }
    // From now on the fake knows this App: its id and public key verify the JWTs.
    const settings = appSettings(request);
    settings.appId = APP_ID;
    settings.publicKeyPem = key.publicKey;
    return {
      status: 201,
      body: {
        id: APP_ID,
        slug: "failover-api-homelab",
        node_id: "A_kwHOfake",
        owner: { login: "acme", id: 1, type: "Organization" },
        name: "failover-api-homelab",
        description: "",
        external_url: "https://example.com/failover-api",
        html_url: `${request.fake.webUrl}/apps/failover-api-homelab`,
        created_at: "2026-12-01T00:00:00Z",
        updated_at: "2026-12-01T00:00:00Z",
        permissions: { contents: "write", metadata: "read" },
        events: ["issue_comment"],
        client_id: "Iv23liFAKECLIENTID",
        client_secret: "0123456789abcdef0123456789abcdef01234567",
        webhook_secret: "e3b0c44298fc1c149afbf4c8996fb924",
        pem: key.privateKey,
      },
    };
  },
};

interface Proc {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function run(args: string[], cwd: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [...cliArgs(), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr?.setEncoding("utf8").on("data", (c: string) => (out += c));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return { child, output: () => out, exited };
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, proc: Proc): Promise<T> {
  // Bounded just under the test timeout: a busy machine starts the process later, not never.
  const deadline = Date.now() + 100_000;
  for (;;) {
    if (proc.child.exitCode !== null)
      throw new Error(`${what}: the process exited:\n${proc.output()}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what}: timed out:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let fake: FakeGitHub;
let dir: string;
const procs: Proc[] = [];

beforeAll(async () => {
  fake = await startFakeGitHub({
    files: demoRepoFiles(),
    owner: "acme",
    repo: "gitops",
    routes: [conversionRoute],
  });
  dir = mkdtempSync(join(tmpdir(), "failover-api-setup-"));
});
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("npm start -- --setup: GitHub's App manifest flow, against the fake GitHub", () => {
  const envFile = () => join(dir, ".env");
  let setupUrl = "";
  let form: { action: string; manifest: Record<string, unknown> };
  let setup: Proc;

  it("serves /setup: a form POSTing `manifest` to GitHub's new-App page with a state", async () => {
    // PORT=0: the setup server binds a port of its own choosing and prints where it is.
    setup = run(["serve", "--setup", `--dotenv=${envFile()}`, "--org", "acme"], dir, {
      PORT: "0",
      HOST: "127.0.0.1",
      GHE_HOST: new URL(fake.webUrl).host,
      GHE_PROTOCOL: "http",
    });
    procs.push(setup);
    setupUrl = await until(
      async () => /open (http:\/\/127\.0\.0\.1:\d+)\/setup in a browser/.exec(setup.output())?.[1],
      "the setup URL",
      setup,
    );
    const html = await until(
      async () => {
        const res = await fetch(`${setupUrl}/setup`);
        return res.status === 200 ? res.text() : undefined;
      },
      "the setup page",
      setup,
    );
    const action = /<form action="([^"]+)" method="post">/.exec(html)?.[1] ?? "";
    const value = /<input type="hidden" name="manifest" value="([^"]*)">/.exec(html)?.[1] ?? "";
    const unescapeHtml = (s: string) =>
      s
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&amp;/g, "&");
    form = { action: unescapeHtml(action), manifest: JSON.parse(unescapeHtml(value)) };
    const url = new URL(form.action);
    // The organisation variant (the user's is /settings/apps/new), on GHE_HOST's web address.
    expect(`${url.origin}${url.pathname}`).toBe(
      `${fake.webUrl}/organizations/acme/settings/apps/new`,
    );
    expect(url.searchParams.get("state")).toMatch(/^[0-9a-f]{48}$/);
  });

  it("the manifest: GitHub's documented parameters, with app.yml's permissions and events", () => {
    const appYml = parse(readFileSync(join(ROOT, "app.yml"), "utf8")) as Record<string, unknown>;
    const { manifest } = form;
    for (const k of Object.keys(manifest)) expect(DOCUMENTED, k).toContain(k);
    expect(manifest).toEqual({
      name: appYml.name,
      url: appYml.url,
      description: appYml.description,
      // No --webhook-url: registered, but inactive, with app.yml's placeholder.
      hook_attributes: {
        url: (appYml.hook_attributes as { url: string }).url,
        active: false,
      },
      redirect_url: `${setupUrl}/setup/callback`,
      public: false,
      default_permissions: appYml.default_permissions,
      default_events: appYml.default_events,
    });
    expect(manifest.default_permissions).toEqual({
      contents: "write",
      pull_requests: "write",
      issues: "write",
      deployments: "write",
      metadata: "read",
    });
  });

  it("GitHub's redirect with a foreign state is refused, and nothing is converted", async () => {
    const res = await fetch(`${setupUrl}/setup/callback?code=${CODE}&state=${"0".repeat(48)}`);
    expect(res.status).toBe(403);
    expect(conversions).toEqual([]);
  });

  it("the redirect with ?code= exchanges it once and writes .env (0600); setup exits 0", async () => {
    const state = new URL(form.action).searchParams.get("state") ?? "";
    const res = await fetch(`${setupUrl}/setup/callback?code=${CODE}&state=${state}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("/apps/failover-api-homelab/installations/new");
    expect(conversions).toEqual([CODE]);
    expect(await setup.exited).toBe(0);
    expect(setup.output()).toContain(`App ID ${APP_ID}`);
    expect(statSync(envFile()).mode & 0o777).toBe(0o600);
    const written = parseEnv(readFileSync(envFile(), "utf8"));
    expect(Object.keys(written).sort()).toEqual([
      "APP_ID",
      "GITHUB_CLIENT_ID",
      "GITHUB_CLIENT_SECRET",
      "PRIVATE_KEY",
      "WEBHOOK_SECRET",
    ]);
    expect(written).toMatchObject({
      APP_ID: String(APP_ID),
      PRIVATE_KEY: key.privateKey,
      WEBHOOK_SECRET: "e3b0c44298fc1c149afbf4c8996fb924",
      GITHUB_CLIENT_ID: "Iv23liFAKECLIENTID",
    });
  });

  it("that .env starts the App: serve --dotenv is ready in GitHub mode against the fake", async () => {
    // A port free when asked for may be bound by another process before serve binds it:
    // serve then exits with EADDRINUSE, and starts again on another port.
    let port = 0;
    let serve: Proc | undefined;
    let body: Record<string, unknown> | undefined;
    for (let attempt = 1; body === undefined; attempt++) {
      port = await freePort();
      const started = run(["serve", `--dotenv=${envFile()}`], dir, {
        PORT: String(port),
        HOST: "127.0.0.1",
        GITOPS_REPOSITORY: "acme/gitops",
        GHE_HOST: new URL(fake.webUrl).host,
        GHE_PROTOCOL: "http",
        FAILOVER_CONFIG: DEMO_CONFIG,
        GITHUB_WRITE_INTERVAL_MS: "0",
      });
      procs.push(started);
      serve = started;
      try {
        body = await until(
          async () => {
            const res = await fetch(`http://127.0.0.1:${port}/api/ready`);
            const json = (await res.json()) as Record<string, unknown>;
            return res.status === 200 ? json : undefined;
          },
          "ready",
          started,
        );
      } catch (error) {
        if (!portWasTaken(started.output()) || attempt >= 5) throw error;
      }
    }
    if (serve === undefined) throw new Error("serve never started");
    expect(body).toMatchObject({ status: "ready", backend: "github", github: { result: "ok" } });
    // The App's JWT (signed with the key from .env) found the installation.
    expect(fake.requests.map((r) => `${r.method} ${r.path} ${String(r.status)}`)).toContain(
      "GET /repos/acme/gitops/installation 200",
    );
    // And the webhook secret from .env is in use: a delivery signed with it is accepted,
    // one signed with anything else is not.
    const secret = parseEnv(readFileSync(envFile(), "utf8")).WEBHOOK_SECRET ?? "";
    const deliver = (key: string) => {
      const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
      return fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "ping",
          "x-github-delivery": randomUUID(),
          "x-hub-signature-256": `sha256=${createHmac("sha256", key).update(body).digest("hex")}`,
        },
        body,
      });
    };
    expect((await deliver(secret)).status).toBe(200);
    expect((await deliver("not the secret")).status).toBeGreaterThanOrEqual(400);
    serve.child.kill("SIGTERM");
    expect(await serve.exited).toBe(0);
  });

  it("refuses to register a second App when APP_ID is already set", async () => {
    const again = run(["serve", "--setup", `--dotenv=${envFile()}`], dir, { PORT: "0" });
    procs.push(again);
    expect(await again.exited).toBe(1);
    expect(again.output()).toContain("APP_ID is already set");
  });
});
