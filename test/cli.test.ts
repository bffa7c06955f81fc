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
