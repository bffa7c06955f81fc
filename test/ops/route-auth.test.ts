import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git } from "../helpers/git.js";
import { type OpsServer, startOpsServer } from "./ops-server.js";

const TOKEN = "route-auth-token-0123456789abcdef";

/**
 * Routing and auth agree on every spelling of a path: a path auth does not recognise as an
 * exempt one is never routed to it. Without a token the answer is 401 or 404, never 200.
 */
describe("route matching vs auth", () => {
  let server: OpsServer;
  beforeAll(async () => {
    server = await startOpsServer({
      FAILOVER_API_TOKENS: TOKEN,
      FAILOVER_AUTH_READS: "true",
      FAILOVER_AUTH_METRICS: "true",
      FAILOVER_RATE_LIMIT: "0",
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const head = () => git(server.repoDir, "rev-parse", "main").trim();

  it.each([
    "/METRICS",
    "/Metrics",
    "/metrics/",
    "/%6Detrics",
    "//metrics",
    "/metrics//",
    "/API/services",
    "/api/Services",
    "/api/services/",
    "/Api/failover/sonarr/status",
    "/api/failover/sonarr/status/",
    "/api/FAILOVER/sonarr/status",
    "/api/failover/sonarr/STATUS",
    "/api/failover/sonarr/history/",
    "/API/failover/sonarr/promote?dry-run=true",
  ])("GET %s without a token is 401 or 404, never served", async (path) => {
    const res = await server.call(path);
    expect([401, 404], path).toContain(res.status);
    expect(await res.text()).not.toMatch(/failover_requests_total|"services"|"state"/);
  });

  it("the exact paths need the token and are served with it", async () => {
    for (const path of ["/metrics", "/api/services", "/api/failover/sonarr/status"]) {
      expect((await server.call(path)).status, path).toBe(401);
      expect((await server.call(path, { token: TOKEN })).status, path).toBe(200);
    }
  });

  it("health and readiness are open only under their exact path", async () => {
    expect((await server.call("/api/health")).status).toBe(200);
    expect((await server.call("/api/ready")).status).toBe(200);
    for (const path of ["/API/health", "/api/health/", "/api/READY", "/api/ready/"]) {
      const res = await server.call(path, { token: TOKEN });
      expect(res.status, path).toBe(404);
    }
  });

  it.each([
    "/API/failover/sonarr/promote",
    "/api/failover/sonarr/PROMOTE",
    "/api/failover/sonarr/promote/",
    "/api/Failover/sonarr/promote",
    "/api/nodes/primary/promote/",
    "/api/failover/sonarr/lock/",
  ])("POST %s without a token is 401 and writes nothing; with one it is no route", async (path) => {
    const before = head();
    const res = await server.call(path, { method: "POST" });
    expect(res.status, path).toBe(401);
    const authed = await server.call(path, { method: "POST", token: TOKEN });
    expect([400, 404], path).toContain(authed.status);
    expect(head()).toBe(before);
  });
});

describe("FAILOVER_AUTH_METRICS=true with reads open", () => {
  let server: OpsServer;
  beforeAll(async () => {
    server = await startOpsServer({ FAILOVER_API_TOKENS: TOKEN, FAILOVER_AUTH_METRICS: "true" });
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(["/METRICS", "/Metrics", "/metrics/", "/mEtRiCs", "/%6Detrics"])(
    "GET %s is never metrics without a token",
    async (path) => {
      const res = await server.call(path);
      expect([401, 404], path).toContain(res.status);
      expect(await res.text()).not.toContain("failover_requests_total");
    },
  );

  it("/metrics itself needs the token", async () => {
    expect((await server.call("/metrics")).status).toBe(401);
    const res = await server.call("/metrics", { token: TOKEN });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("failover_requests_total");
  });
});
