import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InflightRequests } from "../../src/observability/inflight.js";
import { Readiness } from "../../src/observability/readiness.js";
import { gracefulShutdown } from "../../src/observability/shutdown.js";
import { cliArgs } from "../helpers/cli-process.js";
import { eventually, LogCapture } from "./ops-server.js";

/**
 * The real CLI process: SIGTERM while the notification about the last failover is still being
 * delivered (a sink that answers only when the test lets it). The process waits for it before
 * it exits, instead of dropping the message.
 */
describe("shutdown of `failover-api serve` with a notification in flight", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "failover-api-shutdown-notify-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("waits for the slow notification sink before exiting 0", async () => {
    const held: ServerResponse[] = [];
    const bodies: string[] = [];
    let cut = false;
    const sink = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        bodies.push(body);
        held.push(res);
      });
      // The client went away before the sink answered: the message was dropped.
      res.on("close", () => {
        if (!res.writableEnded) cut = true;
      });
    });
    await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
    const sinkUrl = `generic+http://127.0.0.1:${(sink.address() as AddressInfo).port}/notify`;

    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [...cliArgs(), "serve"], {
      env: {
        ...process.env,
        DEMO_REPO: join(root, "demo"),
        PORT: "0",
        LOG_LEVEL: "info",
        FAILOVER_NOTIFY: sinkUrl,
        FAILOVER_NOTIFY_TIMEOUT_MS: "60000",
        SHUTDOWN_DELAY_MS: "0",
        SHUTDOWN_TIMEOUT_MS: "30000",
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
    let exitCode: number | null | undefined;
    const exited = new Promise<number | null>((r) =>
      child.once("exit", (code) => {
        exitCode = code;
        r(code);
      }),
    );
    try {
      const url = await eventually(
        async () => /"url":"(http:\/\/[^"]+)".*"msg":"failover-api listening"/.exec(stdout)?.[1],
        "the listening log line",
        20_000,
      );
      const res = await fetch(`${url}/api/failover/sonarr/promote`, { method: "POST" });
      expect(res.status).toBe(200);
      await eventually(
        async () => (held.length > 0 ? true : undefined),
        "the notification to reach the sink",
        20_000,
      );
      expect(bodies.join("\n")).toContain("committed");

      child.kill("SIGTERM");
      // Either the process exits with the message unanswered (the defect), or it reaches the
      // close step and stays there: it cannot exit while the sink holds the answer, however
      // slow the machine, so this is not a timing claim.
      const first = await Promise.race([
        exited.then(() => "exited"),
        eventually(
          async () =>
            stdout.includes("sending the notifications in flight") ? "closing" : undefined,
          "the shutdown to reach the notifications",
          20_000,
        ),
      ]);
      expect(first).toBe("closing");
      expect(exitCode).toBeUndefined();
      expect(stdout).not.toContain('"msg":"stopped"');
      expect(cut).toBe(false);

      for (const res_ of held) res_.writeHead(200).end();
      expect(await exited).toBe(0);
      expect(cut).toBe(false);
      expect(stdout).toContain('"msg":"stopped"');
      expect(stdout).not.toContain("notification not delivered");
      expect(stdout).not.toContain("notifications in flight left unsent");
    } catch (error) {
      child.kill("SIGKILL");
      throw new Error(`${String(error)}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    } finally {
      sink.closeAllConnections();
      sink.close();
    }
  }, 90_000);
});

describe("gracefulShutdown's close step", () => {
  const shutdown = async (close: () => Promise<void>) => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const logs = new LogCapture();
    const done = await gracefulShutdown({
      server,
      readiness: new Readiness(() => undefined, "demo"),
      inflight: new InflightRequests(),
      timeoutMs: 0,
      delayMs: 0,
      logger: logs.logger,
      close,
    });
    return { done, logs: logs.lines.join("\n") };
  };

  it("awaits the close (the notifier's flush) before it says stopped", async () => {
    const order: string[] = [];
    const { done, logs } = await shutdown(async () => {
      await new Promise((r) => setImmediate(r));
      order.push("flushed");
    });
    order.push("returned");
    expect(order).toEqual(["flushed", "returned"]);
    expect(done).toBe(true);
    expect(logs).toContain("sending the notifications in flight");
    expect(logs).not.toContain("left unsent");
  });

  it("does not wait past the budget for a sink that never answers, and says so", async () => {
    const { done, logs } = await shutdown(() => new Promise<void>(() => undefined));
    expect(done).toBe(false);
    expect(logs).toContain("notifications in flight left unsent");
    expect(logs).toContain('"msg":"stopped"');
  });
});
