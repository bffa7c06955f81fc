import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SPAWN_PROXY_ENV } from "./cli-process.js";
import { git } from "./git.js";

const proxied =
  (process.env[SPAWN_PROXY_ENV] ?? "") !== "" && process.env.FAILOVER_TEST_SPAWN_PROXY !== "off";

/** The pids of this process's children, from /proc (every thread's list). */
function children(): number[] {
  return readdirSync(`/proc/${process.pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${process.pid}/task/${tid}/children`, "utf8")
      .split(" ")
      .filter((p) => p !== "")
      .map(Number),
  );
}

const comm = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
};

describe("a long-lived git with piped stdio (spawn), as the local adapter starts cat-file", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "spawn-proxy-"));
    git(dir, "init", "-q");
    git(dir, "commit", "-q", "--allow-empty", "-m", "one");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("answers on stdout, exits 0 at end of input, and closes after its output", async () => {
    const head = git(dir, "rev-parse", "HEAD").trim();
    const child = spawn("git", ["-C", dir, "cat-file", "--batch-check"], {
      env: process.env as Record<string, string>,
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const closed = new Promise<[number | null, unknown]>((resolve) =>
      child.on("close", (code, signal) => resolve([code, signal])),
    );
    child.stdin.write("HEAD\n");
    await expect.poll(() => out).toMatch(new RegExp(`^${head} commit \\d+\\n$`));
    if (proxied) {
      // Not this worker's child: the spawn proxy's helper started it.
      expect(children().map(comm)).not.toContain("git");
    }
    child.stdin.end("nothere\n");
    expect(await closed).toEqual([0, null]);
    expect(out).toMatch(new RegExp(`^${head} commit \\d+\\nnothere missing\\n$`));
  });

  it("kill: the process ends with the signal", async () => {
    const child = spawn("git", ["-C", dir, "cat-file", "--batch"], {
      env: process.env as Record<string, string>,
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    const closed = new Promise<[number | null, unknown]>((resolve) =>
      child.on("close", (code, signal) => resolve([code, signal])),
    );
    child.kill("SIGKILL");
    expect(await closed).toEqual([null, "SIGKILL"]);
  });
});
