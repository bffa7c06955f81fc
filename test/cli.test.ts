import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitCount } from "./helpers/git.js";

const run = promisify(execFile);

/** The CLI as a user runs it: a real process on a demo repository in a temp dir. */
describe("cli", () => {
  let root: string;
  let demo: string;
  const cli = (...args: string[]) =>
    run("node", ["--import", "tsx", "src/cli.ts", ...args], {
      env: { ...process.env, DEMO_REPO: demo, LOG_LEVEL: "silent" },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "cli-"));
    demo = join(root, "demo");
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("list, status, dry run, promote and a second promote", async () => {
    expect((await cli("list")).stdout).toMatch(/^radarr\tmedia\/radarr.*\nsonarr\tmedia\/sonarr/);
    expect((await cli("status", "sonarr")).stdout).toMatch(
      /^sonarr: primary \(node primary, claim pvc-sonarr\)/,
    );
    const dry = await cli("promote", "sonarr", "--dry-run");
    expect(dry.stdout).toMatch(/^dry run: promote would move sonarr from primary to backup/);
    expect(dry.stdout).toContain("+            claimName: pvc-sonarr-backup");
    expect(commitCount(demo)).toBe(1);
    expect((await cli("promote", "sonarr")).stdout).toMatch(
      /^sonarr moved from primary to backup in commit [0-9a-f]{12}/,
    );
    expect(commitCount(demo)).toBe(2);
    expect((await cli("promote", "sonarr", "--json")).stdout).toContain('"outcome": "no_op"');
    expect(commitCount(demo)).toBe(2);
  });

  it("reports bad input with a usage exit code and writes nothing", async () => {
    const unknown = await cli("promote", "lidarr");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/not_found: unknown service "lidarr"/);
    const bad = await cli("explode", "sonarr");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown command "explode"/);
    const flag = await cli("status", "sonarr", "--bogus");
    expect(flag.code).toBe(2);
  });
});

describe("cli: node-wide, locks, history", () => {
  let root: string;
  let demo: string;
  const cli = (...args: string[]) =>
    run("node", ["--import", "tsx", "src/cli.ts", ...args], {
      env: { ...process.env, DEMO_REPO: demo, LOG_LEVEL: "silent", USER: "ops" },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "cli-node-"));
    demo = join(root, "demo");
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("locks a service, moves the rest of the node in one commit, and lists the history", async () => {
    expect((await cli("lock", "radarr", "disk", "swap")).stdout).toMatch(
      /^radarr locked by cli ops: disk swap/,
    );
    const node = await cli("node", "primary", "promote");
    expect(node.stdout).toMatch(
      /^node primary: 1 service\(s\) moved to backup in commit [0-9a-f]{12}\n {2}radarr: locked: radarr is locked by cli ops/,
    );
    expect(node.stdout).toContain("  sonarr: changed (primary -> backup)");
    expect(commitCount(demo)).toBe(3);
    expect((await cli("history", "sonarr")).stdout).toMatch(
      /\tpromote\tprimary -> backup\tcli ops\tcli\t[0-9a-f]{12}$/m,
    );
    expect((await cli("node", "primary", "sideways")).code).toBe(2);
  });
});
