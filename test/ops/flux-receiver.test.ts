import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseEnv } from "../../src/config/env.js";
import { receiverSignature } from "../../src/flux/receiver-ping.js";
import { commitCount } from "../helpers/git.js";
import { type OpsServer, startOpsServer } from "./ops-server.js";

const SECRET = "flux-receiver-token";

interface Ping {
  readonly body: string;
  readonly signature: string | undefined;
  readonly valid: boolean;
}

/** A stand-in for notification-controller's generic-hmac Receiver: verifies X-Signature. */
async function startReceiver(
  answer: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; pings: Ping[]; close(): Promise<void> }> {
  const pings: Ping[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const signature = req.headers["x-signature"] as string | undefined;
      const [algorithm, hex = ""] = (signature ?? "").split("=");
      const expected = createHmac("sha256", SECRET).update(body).digest();
      const given = Buffer.from(hex, "hex");
      const valid =
        algorithm === "sha256" &&
        given.length === expected.length &&
        timingSafeEqual(given, expected);
      pings.push({ body, signature, valid });
      if (!valid) {
        res.writeHead(401).end();
        return;
      }
      answer(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook/0123abcd`,
    pings,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe("Flux receiver ping", () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let status = 200;
  let hang = false;
  let server: OpsServer;
  beforeAll(async () => {
    receiver = await startReceiver((_req, res) => {
      if (hang) return; // never answers
      res.writeHead(status).end();
    });
    server = await startOpsServer({
      FLUX_RECEIVER_URL: receiver.url,
      FLUX_RECEIVER_SECRET: SECRET,
      FLUX_RECEIVER_TIMEOUT_MS: "300",
      FAILOVER_RATE_LIMIT: "0",
    });
  });
  afterEach(() => {
    status = 200;
    hang = false;
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
  });

  it("signs the body as generic-hmac expects (sha256=<hex HMAC of the body>)", () => {
    const body = '{"a":1}';
    expect(receiverSignature(body, SECRET)).toBe(
      `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
    );
  });

  it("pings once after an applied failover, not after a dry run or a no-op", async () => {
    await server.call("/api/failover/sonarr/promote?dry-run=true", { method: "POST" });
    expect(receiver.pings).toHaveLength(0);
    const res = await server.call("/api/failover/sonarr/promote", { method: "POST" });
    expect(res.status).toBe(200);
    const { commit } = (await res.json()) as { commit: { sha: string } };
    expect(receiver.pings).toHaveLength(1);
    expect(receiver.pings[0]?.valid).toBe(true);
    expect(JSON.parse(receiver.pings[0]?.body ?? "")).toEqual({
      source: "failover-api",
      service: "sonarr",
      action: "promote",
      outcome: "applied",
      commit: commit.sha,
    });
    await server.call("/api/failover/sonarr/promote", { method: "POST" }); // no_op
    expect(receiver.pings).toHaveLength(1);
    expect(await server.metricsText()).toMatch(
      /^flux_receiver_pings_total\{result="success"\} 1$/m,
    );
  });

  it("a receiver answering 500 does not fail the failover", async () => {
    status = 500;
    const before = commitCount(server.repoDir);
    const res = await server.call("/api/failover/sonarr/demote", { method: "POST" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { outcome: string }).outcome).toBe("applied");
    expect(commitCount(server.repoDir)).toBe(before + 1);
    expect(await server.metricsText()).toMatch(
      /^flux_receiver_pings_total\{result="failure"\} 1$/m,
    );
    expect(server.logs.text).toContain("Flux receiver ping failed");
    expect(server.logs.text).toContain("HTTP 500");
  });

  it("a receiver that never answers is cut at the timeout; the failover still succeeds", async () => {
    hang = true;
    const res = await server.call("/api/failover/radarr/promote", { method: "POST" });
    expect(res.status).toBe(200);
    expect(await server.metricsText()).toMatch(
      /^flux_receiver_pings_total\{result="failure"\} 2$/m,
    );
    expect(server.logs.text).toContain("no answer within 300 ms");
    expect(server.logs.text).not.toContain(SECRET);
  });

  it("needs both the URL and the secret", () => {
    expect(() => parseEnv({ FLUX_RECEIVER_URL: receiver.url })).toThrow(/go together/);
    expect(() => parseEnv({ FLUX_RECEIVER_URL: "ftp://x", FLUX_RECEIVER_SECRET: "s" })).toThrow(
      /FLUX_RECEIVER_URL/,
    );
  });
});
