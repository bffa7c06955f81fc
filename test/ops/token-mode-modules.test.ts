import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.js";
import { demoRepoFiles } from "../helpers/files.js";
import { type ServerProcess, startServerProcess } from "../helpers/server-process.js";

/**
 * Records every module the process loads, ES modules (a `load` hook, written from the hooks
 * thread as each one loads, so none is lost), CommonJS ones (`require.cache`, at exit) and
 * Node's own (`process.moduleLoadList`, at exit).
 */
const RECORDER = `
import { writeFileSync } from "node:fs";
import { createRequire, register } from "node:module";
register("./record-hooks.mjs", import.meta.url);
const require = createRequire(import.meta.url);
process.on("exit", () => {
  writeFileSync(process.env.LOADED_MODULES_CJS, Object.keys(require.cache).join("\\n"));
  writeFileSync(process.env.LOADED_MODULES_NODE, process.moduleLoadList.join("\\n"));
});
`;
const RECORD_HOOKS = `
import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  const loaded = await next(url, context);
  appendFileSync(process.env.LOADED_MODULES_ESM, url + "\\n");
  return loaded;
}
`;

/** Probot and what only it brings: webhooks, the App's auth, its logger. */
const PROBOT_ONLY = /node_modules\/(probot|@probot\/[^/]+|@octokit\/(webhooks|auth-app))\//;

/**
 * Token mode (GITHUB_TOKEN, no App) receives no webhooks, so it must not load Probot at all,
 * and its GitHub client speaks node:http, so undici (the global fetch: its first call costs
 * 10 to 15 MB) is not loaded either (issue 11's idle memory, docs/benchmarks.md). The real `serve` process against the fake GitHub,
 * started, ready (its GitHub check passed), then asked for a status (a GraphQL read through
 * the token client), then stopped: what it loaded all along is checked.
 */
describe("token mode loads no Probot", () => {
  let dir: string;
  let fake: FakeGitHub;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "failover-api-modules-"));
    await writeFile(join(dir, "record.mjs"), RECORDER);
    await writeFile(join(dir, "record-hooks.mjs"), RECORD_HOOKS);
    fake = await startFakeGitHub({ files: demoRepoFiles(), owner: "acme", repo: "gitops" });
  });
  afterAll(async () => {
    await server?.kill("SIGKILL");
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves a status over GitHub with @octokit/core, and never imports probot or undici", async () => {
    const esm = join(dir, "esm.txt");
    const cjs = join(dir, "cjs.txt");
    const builtin = join(dir, "node.txt");
    server = await startServerProcess({
      gheHost: new URL(fake.webUrl).host,
      configPath: DEMO_CONFIG,
      env: {
        NODE_OPTIONS: `--import=${join(dir, "record.mjs")}`,
        LOADED_MODULES_ESM: esm,
        LOADED_MODULES_CJS: cjs,
        LOADED_MODULES_NODE: builtin,
      },
    });
    // Ready means the GitHub check passed: a request went out through the token client.
    let ready = 0;
    for (let attempt = 0; attempt < 1000 && ready !== 200; attempt++) {
      ready = (await fetch(`${server.url}/api/ready`)).status;
      if (ready !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(ready).toBe(200);
    const status = await fetch(`${server.url}/api/failover/sonarr/status`);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ service: "sonarr", state: "primary" });
    const exit = await server.kill("SIGTERM");
    expect(exit.code, server.stderr()).toBe(0);

    const loaded = [
      ...(await readFile(esm, "utf8")).split("\n"),
      ...(await readFile(cjs, "utf8")).split("\n"),
    ].filter((line) => line !== "");
    // The recorder saw the process's packages (else the check below proves nothing).
    expect(loaded.some((m) => m.includes("/node_modules/@octokit/core/"))).toBe(true);
    expect(loaded.some((m) => m.includes("/node_modules/@octokit/plugin-retry/"))).toBe(true);
    expect(loaded.some((m) => m.includes("/node_modules/express/"))).toBe(true);
    expect(loaded.filter((m) => PROBOT_ONLY.test(m))).toEqual([]);
    const own = (await readFile(builtin, "utf8")).split("\n");
    expect(own).toContain("NativeModule http");
    // Nothing else of the server calls the global fetch unless configured (Flux receiver,
    // notifications, the cluster's API): a new fetch at start would bring undici back.
    expect(own.filter((m) => m.includes("undici"))).toEqual([]);
  });
});
