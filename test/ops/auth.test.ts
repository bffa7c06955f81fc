import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiAuth } from "../../src/http/auth.js";
import { git } from "../helpers/git.js";
import { eventually, type OpsServer, startOpsServer } from "./ops-server.js";

const HA = "ha-token-0123456789abcdef";
const UNNAMED = "unnamed-token-fedcba9876543210";
const FILE_OLD = "file-token-old-0000000000000";
const FILE_NEW = "file-token-new-1111111111111";

describe("HTTP API bearer tokens", () => {
  let root: string;
  let tokensFile: string;
  let server: OpsServer;
  const dryRun = (token?: string, init: RequestInit = {}) =>
    server.call("/api/failover/sonarr/promote?dry-run=true", {
      method: "POST",
      ...init,
      ...(token === undefined ? {} : { token }),
    });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "failover-api-auth-"));
    tokensFile = join(root, "tokens");
    await writeFile(tokensFile, `# rotated by the Secret\nci:${FILE_OLD}\n\n`);
    server = await startOpsServer(
      {
        FAILOVER_API_TOKENS: `ha:${HA}, ${UNNAMED}`,
        FAILOVER_API_TOKENS_FILE: tokensFile,
        FAILOVER_RATE_LIMIT: "0",
      },
      { root },
    );
  });
  afterAll(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  it("refuses a POST without a token: 401 JSON with WWW-Authenticate", async () => {
    const res = await dryRun();
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="failover-api"/);
    expect(await res.json()).toEqual({
      error: { code: "unauthorized", message: expect.stringContaining("Bearer") },
    });
  });

  it("refuses a wrong token, another scheme, and tokens of any other length", async () => {
    for (const header of [
      `Bearer ${HA}x`,
      `Bearer ${HA.slice(0, -1)}`,
      "Bearer a",
      `Bearer ${"x".repeat(1000)}`,
      `Basic ${Buffer.from(`user:${HA}`).toString("base64")}`,
      `Bearer`,
    ]) {
      const res = await dryRun(undefined, { headers: { authorization: header } });
      expect(res.status, header).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
  });

  it("accepts every configured token (rotation), in any case of the scheme", async () => {
    for (const token of [HA, UNNAMED, FILE_OLD]) {
      expect((await dryRun(token)).status, token).toBe(200);
    }
    const res = await dryRun(undefined, { headers: { authorization: `bearer ${HA}` } });
    expect(res.status).toBe(200);
  });

  it("leaves reads, health, readiness and metrics open by default", async () => {
    for (const path of [
      "/api/services",
      "/api/failover/sonarr/status",
      "/api/health",
      "/api/ready",
      "/metrics",
    ]) {
      expect((await server.call(path)).status, path).toBe(200);
    }
    expect(await (await server.call("/api/health")).json()).toEqual({ status: "ok" });
    // A dry run by GET is a read.
    expect((await server.call("/api/failover/sonarr/promote?dry-run=true")).status).toBe(200);
  });

  it("protects every POST, also to routes that do not exist", async () => {
    expect((await server.call("/api/nothing", { method: "POST" })).status).toBe(401);
    expect((await server.call("/api/nothing", { method: "POST", token: HA })).status).toBe(404);
  });

  it("records `token <name>` as the requester of a named token, `http <ip>` otherwise", async () => {
    const promote = await server.call("/api/failover/sonarr/promote", {
      method: "POST",
      token: HA,
    });
    expect(promote.status).toBe(200);
    expect(git(server.repoDir, "log", "-1", "--format=%B")).toContain("token ha");
    const demote = await server.call("/api/failover/sonarr/demote", {
      method: "POST",
      token: UNNAMED,
    });
    expect(demote.status).toBe(200);
    const message = git(server.repoDir, "log", "-1", "--format=%B");
    expect(message).toContain("http 127.0.0.1");
    expect(message).not.toContain("token");
  });

  it("re-reads the tokens file when the Secret changes", async () => {
    const tmp = join(root, "tokens.tmp");
    await writeFile(tmp, `ci:${FILE_NEW}\n`);
    await rename(tmp, tokensFile);
    await eventually(
      async () => ((await dryRun(FILE_NEW)).status === 200 ? true : undefined),
      "the new token to be accepted",
    );
    expect((await dryRun(FILE_OLD)).status).toBe(401);
    expect((await dryRun(HA)).status).toBe(200);
  });

  it("never logs a token or the Authorization header", async () => {
    await dryRun(HA);
    await dryRun("not-a-valid-token-but-secret-looking");
    const text = server.logs.text;
    expect(text).toContain('"path":"/api/failover/sonarr/promote"');
    for (const secret of [
      HA,
      UNNAMED,
      FILE_OLD,
      FILE_NEW,
      "not-a-valid-token-but-secret-looking",
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text.toLowerCase()).not.toContain("authorization");
  });
});

describe("FAILOVER_AUTH_READS and FAILOVER_AUTH_METRICS", () => {
  let server: OpsServer;
  beforeAll(async () => {
    server = await startOpsServer({
      FAILOVER_API_TOKENS: HA,
      FAILOVER_AUTH_READS: "true",
      FAILOVER_AUTH_METRICS: "true",
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("protects GET endpoints except health and readiness", async () => {
    for (const path of ["/api/services", "/api/failover/sonarr/status", "/metrics"]) {
      expect((await server.call(path)).status, path).toBe(401);
      expect((await server.call(path, { token: HA })).status, path).toBe(200);
    }
    expect((await server.call("/api/health")).status).toBe(200);
    expect((await server.call("/api/ready")).status).toBe(200);
  });

  it("keeps the webhook path out of token auth (GitHub signs webhooks)", async () => {
    const res = await server.call("/api/github/webhooks", { method: "POST", body: "{}" });
    expect(res.status).not.toBe(401);
  });
});

describe("no token configured", () => {
  it("leaves the API open (the demo) and an empty tokens file stops the start", async () => {
    const open = await startOpsServer();
    try {
      const res = await open.call("/api/failover/sonarr/promote?dry-run=true", { method: "POST" });
      expect(res.status).toBe(200);
    } finally {
      await open.close();
    }
    const root = await mkdtemp(join(tmpdir(), "failover-api-auth-empty-"));
    try {
      await writeFile(join(root, "tokens"), "\n# none yet\n");
      await expect(
        startOpsServer({ FAILOVER_API_TOKENS_FILE: join(root, "tokens") }, { root }),
      ).rejects.toThrow(/FAILOVER_API_TOKENS_FILE .* holds no token/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("fails startup on an unreadable tokens file", () => {
    expect(
      () => new ApiAuth({ tokensFile: "/nonexistent/tokens", logger: pino({ level: "silent" }) }),
    ).toThrow(/cannot read FAILOVER_API_TOKENS_FILE/);
  });
});

describe("ApiAuth tokens file that can no longer be read", () => {
  it("revokes the file's tokens (fail closed) until it can be read again", async () => {
    const root = await mkdtemp(join(tmpdir(), "failover-api-auth-gone-"));
    try {
      const file = join(root, "tokens");
      await writeFile(file, `ci:${FILE_OLD}\n`);
      const auth = new ApiAuth({
        tokens: `ha:${HA}`,
        tokensFile: file,
        logger: pino({ level: "silent" }),
      });
      expect(auth.verify(FILE_OLD)).toEqual({ name: "ci" });
      await rm(file);
      auth.reloadFile();
      expect(auth.verify(FILE_OLD)).toBeUndefined();
      expect(auth.verify(HA)).toEqual({ name: "ha" });
      await writeFile(file, `ci:${FILE_OLD}\n`);
      auth.reloadFile();
      expect(auth.verify(FILE_OLD)).toEqual({ name: "ci" });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("ApiAuth.verify", () => {
  const auth = new ApiAuth({
    tokens: `a:${HA},b:with:colon-0123456789, ${UNNAMED}`,
    logger: pino({ level: "silent" }),
  });
  it("compares digests, so any length is answered without throwing", () => {
    expect(auth.verify(HA)).toEqual({ name: "a" });
    expect(auth.verify("with:colon-0123456789")).toEqual({ name: "b" });
    expect(auth.verify(UNNAMED)).toEqual({ name: undefined });
    for (const wrong of ["", "a", HA.slice(1), `${HA}${HA}`, "ü".repeat(40), `a:${HA}`]) {
      expect(auth.verify(wrong), wrong).toBeUndefined();
    }
  });
});
