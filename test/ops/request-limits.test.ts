import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RateLimiter } from "../../src/http/rate-limit.js";
import { type OpsServer, startOpsServer } from "./ops-server.js";

const TOKEN = "limits-token-0123456789abcdef";

describe("request limits", () => {
  let server: OpsServer;
  beforeAll(async () => {
    server = await startOpsServer({ FAILOVER_API_TOKENS: TOKEN, FAILOVER_RATE_LIMIT: "0" });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("413 for a body over 4 KiB (declared length), before auth", async () => {
    for (const token of [TOKEN, undefined]) {
      const res = await server.call("/api/failover/sonarr/promote?dry-run=true", {
        method: "POST",
        body: "x".repeat(5000),
        ...(token === undefined ? {} : { token }),
      });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({
        error: { code: "invalid_input", message: expect.stringContaining("4096 bytes") },
      });
    }
  });

  it("413 for a chunked body over 4 KiB; a small body is fine", async () => {
    const chunks = [new Uint8Array(3000), new Uint8Array(3000)];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(next);
      },
    });
    const res = await server.call("/api/failover/sonarr/promote?dry-run=true", {
      method: "POST",
      body,
      token: TOKEN,
      duplex: "half",
    } as RequestInit & { token: string });
    expect(res.status).toBe(413);
    const small = await server.call("/api/failover/sonarr/promote?dry-run=true", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
      token: TOKEN,
    });
    expect(small.status).toBe(200);
  });

  it("414 for a URL over 2 KiB", async () => {
    const res = await server.call(`/api/failover/sonarr/status?pad=${"a".repeat(2100)}`);
    expect(res.status).toBe(414);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
    expect((await server.call(`/api/failover/sonarr/status?pad=${"a".repeat(1900)}`)).status).toBe(
      200,
    );
  });
});

describe("rate limit", () => {
  let server: OpsServer;
  beforeAll(async () => {
    server = await startOpsServer({ FAILOVER_RATE_LIMIT: "3" });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("429 JSON with Retry-After once a client's POST bucket is empty; GETs have their own bucket", async () => {
    const post = () => server.call("/api/failover/sonarr/promote?dry-run=true", { method: "POST" });
    for (let i = 0; i < 3; i++) expect((await post()).status).toBe(200);
    const limited = await post();
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(await limited.json()).toMatchObject({ error: { code: "rate_limited" } });
    for (let i = 0; i < 5; i++) expect((await server.call("/api/services")).status).toBe(200);
  });
});

describe("read rate limit", () => {
  let server: OpsServer;
  beforeAll(async () => {
    server = await startOpsServer({ FAILOVER_READ_RATE_LIMIT: "3" });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("unauthenticated GETs have their own per-client bucket: 429 with Retry-After", async () => {
    expect((await server.call("/api/services")).status).toBe(200);
    expect((await server.call("/api/failover/sonarr/status")).status).toBe(200);
    expect((await server.call("/api/services", { method: "HEAD" })).status).toBe(200);
    for (const path of ["/api/services", "/api/failover/sonarr/status", "/metrics", "/nope"]) {
      const limited = await server.call(path);
      expect(limited.status, path).toBe(429);
      const retryAfter = Number(limited.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(20);
      expect(await limited.json()).toMatchObject({
        error: { code: "rate_limited", details: { retryAfterSeconds: retryAfter } },
      });
    }
    // The probes are never limited, and writes keep their own bucket.
    expect((await server.call("/api/health")).status).toBe(200);
    expect((await server.call("/api/ready")).status).toBe(200);
    const post = await server.call("/api/failover/sonarr/promote?dry-run=true", {
      method: "POST",
    });
    expect(post.status).toBe(200);
  });
});

describe("RateLimiter", () => {
  it("refills continuously and tells how long to wait", () => {
    let now = 0;
    const limiter = new RateLimiter(6, () => now); // one every 10 s
    for (let i = 0; i < 6; i++) expect(limiter.take("a")).toBe(0);
    expect(limiter.take("a")).toBe(10);
    expect(limiter.take("b")).toBe(0);
    now += 5_000;
    expect(limiter.take("a")).toBe(5);
    now += 5_000;
    expect(limiter.take("a")).toBe(0);
    now += 3_600_000; // a sweep forgets full buckets
    expect(limiter.take("a")).toBe(0);
  });
});
