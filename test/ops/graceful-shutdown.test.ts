import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliArgs } from "../helpers/cli-process.js";
import { commitCount } from "../helpers/git.js";
import { eventually } from "./ops-server.js";

/**
 * The real CLI process: SIGTERM while a failover's after-effects are still running. The
 * failover is answered at landing; its Flux ping (a listener, in the background) is held by a
 * receiver that answers only when the test lets it, and the shutdown waits for it.
 */
describe("graceful shutdown of `failover-api serve`", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "failover-api-shutdown-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("answers at landing, turns readiness 503 on SIGTERM, drains the background work, exits 0", async () => {
    const held: ServerResponse[] = [];
    let pinged = false;
    const receiver = createServer((req, res) => {
      req.resume();
      pinged = true;
      held.push(res);
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook/x`;

    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [...cliArgs(), "serve"], {
      env: {
        ...process.env,
        DEMO_REPO: join(root, "demo"),
        PORT: "0",
        LOG_LEVEL: "info",
        FLUX_RECEIVER_URL: receiverUrl,
        FLUX_RECEIVER_SECRET: "s3cret",
        FLUX_RECEIVER_TIMEOUT_MS: "60000",
        SHUTDOWN_DELAY_MS: "3000",
        SHUTDOWN_TIMEOUT_MS: "20000",
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    try {
      const url = await eventually(
        async () => /"url":"(http:\/\/[^"]+)".*"msg":"failover-api listening"/.exec(stdout)?.[1],
        "the listening log line",
        20_000,
      );
      const res = await fetch(`${url}/api/failover/sonarr/promote`, { method: "POST" });
      // Answered with the commit, while the Flux ping it caused is still held.
      expect(res.status).toBe(200);
      expect(((await res.json()) as { outcome: string }).outcome).toBe("applied");
      expect(commitCount(join(root, "demo"))).toBe(2);
      await eventually(async () => (pinged ? true : undefined), "the Flux ping to be in flight");

      child.kill("SIGTERM");
      await eventually(
        async () => ((await fetch(`${url}/api/ready`)).status === 503 ? true : undefined),
        "readiness to turn 503",
      );
      expect(stdout).toContain("shutting down");
      await eventually(
        async () => (stdout.includes("finishing background work") ? true : undefined),
        "the shutdown to wait for the background work",
        20_000,
      );

      for (const held_ of held) held_.writeHead(200).end();
      expect(await exited).toBe(0);
      expect(stdout).toContain("all requests finished");
      expect(stdout).toContain("asked Flux to reconcile");
      expect(stdout).not.toContain("background work left unfinished");
    } catch (error) {
      child.kill("SIGKILL");
      throw new Error(`${String(error)}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    } finally {
      receiver.closeAllConnections();
      receiver.close();
    }
  }, 60_000);
});
