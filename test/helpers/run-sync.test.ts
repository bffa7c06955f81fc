import { describe, expect, it } from "vitest";
import { SPAWN_PROXY_ENV } from "./cli-process.js";
import { runSync } from "./run-sync.js";

const proxied =
  (process.env[SPAWN_PROXY_ENV] ?? "") !== "" && process.env.FAILOVER_TEST_SPAWN_PROXY !== "off";

describe("runSync: execFileSync for test assertions", () => {
  it("returns stdout as bytes and passes input", () => {
    expect(runSync("sh", ["-c", "cat; printf ' world'"], { input: "hello" }).toString()).toBe(
      "hello world",
    );
    const bytes = Buffer.from([0, 255, 10, 128]);
    expect(runSync("cat", [], { input: bytes })).toEqual(bytes);
  });

  it("throws like execFileSync: status, stderr and a message that holds it", () => {
    let caught: unknown;
    try {
      runSync("sh", ["-c", "echo out; echo broken >&2; exit 3"]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    const error = caught as Error & { status: unknown; stdout: Buffer; stderr: Buffer };
    expect(error.status).toBe(3);
    expect(error.stdout.toString()).toBe("out\n");
    expect(error.stderr.toString()).toBe("broken\n");
    expect(error.message).toContain("broken");
  });

  it("a program that is not there: code ENOENT", () => {
    expect(() => runSync("failover-api-no-such-program", [])).toThrow(
      expect.objectContaining({ code: "ENOENT" }),
    );
  });

  it.runIf(proxied)("in a proxied worker, the process is not this worker's child", () => {
    const parent = Number(runSync("sh", ["-c", "echo $PPID"]).toString().trim());
    expect(parent).toBeGreaterThan(0);
    expect(parent).not.toBe(process.pid);
  });
});
