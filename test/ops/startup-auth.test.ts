import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiAuth } from "../../src/http/auth.js";
import { cliArgs } from "../helpers/cli-process.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Started {
  /** The exit code, or "listening" when the server came up (it is then stopped). */
  readonly result: number | "listening";
  readonly output: string;
}

/**
 * `cli.ts serve` (demo backend in `dir`) as its own process: resolves with its exit code, or
 * with "listening" once it logged that it serves (then it is killed). The wait is bounded
 * only so that a hanging process cannot hang the suite; nothing is timed.
 */
function serve(dir: string, env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [...cliArgs(), "serve"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...(process.env.TMPDIR === undefined ? {} : { TMPDIR: process.env.TMPDIR }),
      DEMO_REPO: join(dir, "demo"),
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve) => {
    const bound = setTimeout(() => child.kill("SIGKILL"), 100_000);
    const onData = (chunk: string) => {
      output += chunk;
      if (output.includes("failover-api listening")) child.kill("SIGKILL");
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.stderr.setEncoding("utf8").on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(bound);
      resolve({
        result: output.includes("failover-api listening") ? "listening" : (code ?? -1),
        output,
      });
    });
  });
}

describe("API token settings that yield no token stop the start", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "failover-api-startup-auth-"));
    await writeFile(join(dir, "empty-tokens"), "");
    await writeFile(join(dir, "comment-tokens"), "# rotated by the Secret\n\n   \n");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // One process per source of tokens: every setting that yields none takes the same path from
  // ApiAuth's refusal to exit 1, and ApiAuth's refusals are checked one by one in-process below.
  it.each([
    [{ FAILOVER_API_TOKENS: " , " }, "FAILOVER_API_TOKENS is set but holds no token"],
    [{ FAILOVER_API_TOKENS_FILE: "comment-tokens" }, "FAILOVER_API_TOKENS_FILE"],
  ])("%j: exit 1, the message names the variable, never `auth: off`", async (env, message) => {
    const resolved = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, k.endsWith("_FILE") ? join(dir, v) : v]),
    );
    const { result, output } = await serve(dir, resolved);
    expect(result, output).toBe(1);
    expect(output).toContain(`failover-api: config_invalid: ${message}`);
    expect(output).not.toContain('"auth":"off"');
  });

  it("a real token starts (the harness can tell the two apart)", async () => {
    const { result, output } = await serve(dir, {
      FAILOVER_API_TOKENS: ", ha:startup-token-0123456789abcdef ,",
    });
    expect(result, output).toBe("listening");
    expect(output).toContain('"auth":"1 token(s)"');
  });
});

describe("ApiAuth refuses settings that yield no token", () => {
  const logger = pino({ level: "silent" });
  it.each(["", " ", ",", " , ", ",,,", "#comment", "# a, # b", "\t,\n"])(
    "FAILOVER_API_TOKENS=%j",
    (tokens) => {
      expect(() => new ApiAuth({ tokens, logger })).toThrow(/FAILOVER_API_TOKENS is set/);
    },
  );
  it("FAILOVER_API_TOKENS_FILE set but empty", () => {
    expect(() => new ApiAuth({ tokensFile: "", logger })).toThrow(
      /FAILOVER_API_TOKENS_FILE is set but empty/,
    );
  });
  describe("FAILOVER_API_TOKENS_FILE naming a file without a token", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "failover-api-auth-file-"));
      await writeFile(join(dir, "empty-tokens"), "");
      await writeFile(join(dir, "comment-tokens"), "# rotated by the Secret\n\n   \n");
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });
    it.each(["empty-tokens", "comment-tokens"])("%s", (file) => {
      expect(() => new ApiAuth({ tokensFile: join(dir, file), logger })).toThrow(
        /FAILOVER_API_TOKENS_FILE .* holds no token/,
      );
    });
  });
  it("unset is auth off (the demo); a token anywhere in the list is auth on", () => {
    expect(new ApiAuth({ logger }).enabled).toBe(false);
    const auth = new ApiAuth({ tokens: ",x-token-0123456789abcdef,", logger });
    expect(auth.enabled).toBe(true);
    expect(auth.tokenCount).toBe(1);
  });
});
