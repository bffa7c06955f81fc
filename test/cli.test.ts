import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli/main.js";
import { parseCli } from "../src/cli/program.js";
import { cliArgs } from "./helpers/cli-process.js";
import { commitCount } from "./helpers/git.js";

const run = promisify(execFile);
const origin = { requester: "cli ops", requestId: "r-1" };
const by = { ...origin, trigger: "cli" };

describe("cli parser (argv -> Command)", () => {
  const parse = (...argv: string[]) => parseCli(argv, origin).request;

  it.each([
    [["list"], { ...by, kind: "list" }],
    [["status"], { ...by, kind: "status", service: undefined }],
    [["status", "sonarr"], { ...by, kind: "status", service: "sonarr" }],
    [
      ["promote", "sonarr"],
      {
        ...by,
        kind: "failover",
        service: "sonarr",
        action: "promote",
        dryRun: false,
        mode: undefined,
        acceptDataLoss: false,
      },
    ],
    [
      ["promote", "sonarr", "--accept-data-loss"],
      {
        ...by,
        kind: "failover",
        service: "sonarr",
        action: "promote",
        dryRun: false,
        mode: undefined,
        acceptDataLoss: true,
      },
    ],
    [
      ["demote", "sonarr", "--dry-run", "--pr"],
      {
        ...by,
        kind: "failover",
        service: "sonarr",
        action: "demote",
        dryRun: true,
        mode: "pr",
        acceptDataLoss: false,
      },
    ],
    [
      ["promote", "sonarr", "--urgent"],
      {
        ...by,
        kind: "failover",
        service: "sonarr",
        action: "promote",
        dryRun: false,
        mode: "urgent",
        acceptDataLoss: false,
      },
    ],
    [
      ["node", "k3s-w1", "promote", "--dry-run"],
      {
        ...by,
        kind: "node_failover",
        node: "k3s-w1",
        action: "promote",
        dryRun: true,
        mode: undefined,
        acceptDataLoss: false,
      },
    ],
    [
      ["lock", "radarr", "disk", "swap"],
      { ...by, kind: "lock", service: "radarr", reason: "disk swap" },
    ],
    [["unlock", "radarr"], { ...by, kind: "unlock", service: "radarr" }],
    [["history", "sonarr"], { ...by, kind: "history", service: "sonarr", limit: 20 }],
    [
      ["history", "sonarr", "--limit", "5"],
      { ...by, kind: "history", service: "sonarr", limit: 5 },
    ],
  ])("%j", (argv, command) => {
    expect(parse(...argv)).toEqual({ kind: "command", command, json: false });
  });

  it("--json anywhere, --dotenv as a global option", () => {
    expect(parseCli(["--dotenv=.env", "list", "--json"], origin)).toEqual({
      request: { kind: "command", command: { ...by, kind: "list" }, json: true },
      dotenv: ".env",
    });
  });

  it("serve only when asked; --setup with its options", () => {
    expect(parse("serve")).toEqual({ kind: "serve", setup: undefined });
    expect(parse("serve", "--setup", "--org", "acme")).toEqual({
      kind: "serve",
      setup: { org: "acme" },
    });
    expect(parse("setup", "--webhook-url", "https://x/api/github/webhooks")).toEqual({
      kind: "serve",
      setup: { webhookUrl: "https://x/api/github/webhooks" },
    });
    const bare = parse();
    expect(bare.kind).toBe("print");
    expect(bare.kind === "print" && bare.text).toMatch(
      /^Usage: failover-api \[options\] \[command\]/,
    );
  });

  it("--version and per-command help print, exit 0", () => {
    expect(parse("--version")).toEqual({ kind: "print", text: "0.1.0\n" });
    const help = parse("promote", "--help");
    expect(help.kind === "print" && help.text).toMatch(/--dry-run[\s\S]*--pr[\s\S]*--urgent/);
  });

  it.each([
    [["lsit"], "unknown command 'lsit' (did you mean list?)"],
    [["explode", "sonarr"], "unknown command 'explode'"],
    [["promote"], "missing required argument 'service'"],
    [["status", "sonarr", "--bogus"], "unknown option '--bogus'"],
    [
      ["promote", "sonarr", "--pr", "--urgent"],
      "option '--pr' cannot be used with option '--urgent'",
    ],
    [
      ["node", "primary", "sideways"],
      "command-argument value 'sideways' is invalid for argument 'action'. Allowed choices are promote, demote.",
    ],
    [
      ["history", "sonarr", "--limit", "500"],
      "option '--limit <n>' argument '500' is invalid. give a number from 1 to 100",
    ],
  ])("%j is a short usage error", (argv, message) => {
    expect(parse(...argv)).toEqual({ kind: "usage", message });
  });
});

/** The program in-process on a demo repository in a temp dir: exit codes and output. */
describe("cli program", () => {
  let root: string;
  let demo: string;
  const cli = async (...argv: string[]) => {
    let stdout = "";
    let stderr = "";
    const code = await runCli(argv, {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      env: { DEMO_REPO: demo, LOG_LEVEL: "silent", USER: "ops" },
    });
    return { code, stdout, stderr };
  };

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
    expect((await cli("status")).stdout).toBe("radarr\tprimary\nsonarr\tprimary\n");
    const dry = await cli("promote", "sonarr", "--dry-run");
    expect(dry.stdout).toMatch(/^dry run: promote would move sonarr from primary to backup/);
    expect(dry.stdout).toContain("+            claimName: pvc-sonarr-backup");
    // The data-loss window of the plan: no cluster to read here.
    expect(dry.stdout).toContain("\nrpo: RPO unknown: no cluster access\n");
    expect(commitCount(demo)).toBe(1);
    expect((await cli("promote", "sonarr")).stdout).toMatch(
      /^sonarr moved from primary to backup in commit [0-9a-f]{12}/,
    );
    expect(commitCount(demo)).toBe(2);
    const again = await cli("promote", "sonarr", "--json");
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: "no_op", service: "sonarr" });
    expect(commitCount(demo)).toBe(2);
  });

  it("a failed command exits 1 with its code; bad input exits 2; nothing is written", async () => {
    const unknown = await cli("promote", "lidarr");
    expect(unknown).toMatchObject({ code: 1, stdout: "" });
    expect(unknown.stderr).toMatch(/^failover-api: not_found: unknown service "lidarr"/);
    const pr = await cli("promote", "radarr", "--pr");
    expect(pr.code).toBe(2);
    expect(pr.stderr).toMatch(/invalid_input: PR mode needs a GitHub repository/);
    const typo = await cli("lsit");
    expect(typo).toEqual({
      code: 2,
      stdout: "",
      stderr:
        "failover-api: unknown command 'lsit' (did you mean list?)\n(failover-api --help for usage)\n",
    });
    expect(commitCount(demo)).toBe(2);
  });

  it("locks a service, moves the rest of the node in one commit, and lists the history", async () => {
    expect((await cli("demote", "sonarr")).code).toBe(0);
    const before = commitCount(demo);
    expect((await cli("lock", "radarr", "disk", "swap")).stdout).toMatch(
      /^radarr locked by cli ops: disk swap/,
    );
    const node = await cli("node", "primary", "promote");
    expect(node.stdout).toMatch(
      /^node primary: 1 service\(s\) moved to backup in commit [0-9a-f]{12}\n {2}radarr: locked: radarr is locked by cli ops/,
    );
    expect(node.stdout).toContain("  sonarr: changed (primary -> backup)");
    expect(commitCount(demo)).toBe(before + 2);
    expect((await cli("history", "sonarr")).stdout).toMatch(
      /^.*\tpromote\tprimary -> backup\tcli ops\tcli\t[0-9a-f]{12}$/m,
    );
  });
});

/** The installed entry point, once, as a real process: argv, exit code and stderr. */
describe("cli process", () => {
  it("a typo: exit 2 and one short line, no usage dump, no server", async () => {
    const result = await run(process.execPath, [...cliArgs(), "lsit"], {
      env: { ...process.env, LOG_LEVEL: "silent" },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "failover-api: unknown command 'lsit' (did you mean list?)\n(failover-api --help for usage)\n",
    );
  });
});
