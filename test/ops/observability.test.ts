import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issuesState } from "../fake-github/routes/issues.js";
import { issueComment } from "../helpers/webhook-payloads.js";
import {
  eventually,
  type OpsAppServer,
  type OpsServer,
  startOpsAppServer,
  startOpsServer,
} from "./ops-server.js";

describe("request ids, metrics and readiness (demo backend)", () => {
  let server: OpsServer;
  beforeAll(async () => {
    server = await startOpsServer({ FAILOVER_RATE_LIMIT: "0" });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("echoes a sane X-Request-Id and logs every line of the request with it", async () => {
    const res = await server.call("/api/failover/sonarr/promote?dry-run=true", {
      method: "POST",
      headers: { "x-request-id": "ha-automation-42" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("ha-automation-42");
    const lines = server.logs.entries().filter((e) => e.requestId === "ha-automation-42");
    expect(lines.map((e) => e.msg)).toContain("POST /api/failover/sonarr/promote 200");
    expect(lines.find((e) => e.msg === "POST /api/failover/sonarr/promote 200")).toMatchObject({
      req: { method: "POST", path: "/api/failover/sonarr/promote" },
    });
    // One structured line for the command itself, with the same request id.
    expect(lines.find((e) => e.msg === "failover done")).toMatchObject({
      services: ["sonarr"],
      action: "promote",
      outcome: "dry_run",
      trigger: "http",
      durationMs: expect.any(Number),
    });
  });

  it("replaces an insane X-Request-Id with a generated one", async () => {
    for (const bad of ["has spaces in it", "x".repeat(300), "<script>", "-leading-dash"]) {
      const res = await server.call("/api/health", { headers: { "x-request-id": bad } });
      const id = res.headers.get("x-request-id");
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(server.logs.text).not.toContain(bad);
    }
  });

  it("keeps /api/health exactly {status: ok}", async () => {
    const res = await server.call("/api/health");
    expect(await res.text()).toBe('{"status":"ok"}');
  });

  it("counts failovers by service, action, trigger and outcome or error code", async () => {
    await server.call("/api/failover/sonarr/promote", { method: "POST" });
    await server.call("/api/failover/sonarr/promote", { method: "POST" });
    await server.call("/api/failover/lidarr/promote", { method: "POST" });
    await server.call("/api/failover/sonarr/demote?dry-run=true");
    const text = await server.metricsText();
    const line = (labels: string) =>
      new RegExp(`^failover_requests_total\\{${labels}\\} (\\d+)$`, "m").exec(text)?.[1];
    expect(line('service="sonarr",action="promote",trigger="http",outcome="applied"')).toBe("1");
    expect(line('service="sonarr",action="promote",trigger="http",outcome="no_op"')).toBe("1");
    expect(line('service="unknown",action="promote",trigger="http",outcome="not_found"')).toBe("1");
    expect(line('service="sonarr",action="demote",trigger="http",outcome="dry_run"')).toBe("1");
    expect(text).toMatch(
      /^failover_duration_seconds_bucket\{le="\+Inf",action="promote",outcome="applied"\} 1$/m,
    );
    expect(text).toMatch(
      /^failover_duration_seconds_count\{action="promote",outcome="applied"\} 1$/m,
    );
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^config_valid 1$/m);
    expect(text).toMatch(/^config_last_reload_success_timestamp_seconds \d+/m);
    expect(text).toMatch(/^config_reload_total\{result="success"\} 1$/m);
  });

  it("readiness: 200 with the config's source and load time; 503 once shutting down", async () => {
    const res = await server.call("/api/ready");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { config: { loadedAt: string } };
    expect(body).toMatchObject({
      status: "ready",
      backend: "demo",
      config: { source: expect.any(String) },
    });
    expect(Number.isNaN(Date.parse(body.config.loadedAt))).toBe(false);
    server.operations.readiness.drain();
    const draining = await server.call("/api/ready");
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ status: "not_ready", reason: "shutting down" });
    expect((await server.call("/api/health")).status).toBe(200);
  });
});

describe("GitHub App mode: GitHub API metrics and webhook delivery ids", () => {
  let app: OpsAppServer;
  const TOKEN = "app-token-0123456789abcdef";
  beforeAll(async () => {
    app = await startOpsAppServer({ FAILOVER_API_TOKENS: `ops:${TOKEN}` }, { alice: "write" });
  });
  afterAll(async () => {
    await app?.close();
  });

  it("counts GitHub API requests by method and status, without URLs or tokens", async () => {
    const res = await app.call("/api/failover/sonarr/promote", { method: "POST", token: TOKEN });
    expect(res.status).toBe(200);
    const text = await app.metricsText();
    expect(text).toMatch(/^github_api_requests_total\{method="POST",status="200"\} \d+$/m);
    expect(text).toMatch(/^github_api_requests_total\{method="GET",status="200"\} \d+$/m);
    expect(text).not.toMatch(/github_api_\w+\{[^}]*(acme|gitops|\/)/);
    expect(text).toMatch(
      /failover_requests_total\{service="sonarr",action="promote",trigger="http",outcome="applied"\} 1/,
    );
  });

  it("counts failed GitHub requests", async () => {
    const res = await app.call("/api/failover/radarr/promote", { method: "POST", token: TOKEN });
    expect(res.status).toBe(200);
    // A ChatOps sender without a role: the permission lookup answers 404.
    await app.sendWebhook("issue_comment", issueComment("/failover sonarr status", "mallory"));
    await eventually(
      async () =>
        (await app.metricsText()).match(
          /^github_api_errors_total\{method="GET",status="404"\} \d+$/m,
        )
          ? true
          : undefined,
      "a counted GitHub error",
    );
  });

  it("webhooks pass without an API token and log with their delivery id", async () => {
    const { res, delivery } = await app.sendWebhook(
      "issue_comment",
      issueComment("/failover sonarr status", "alice"),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe(delivery);
    await eventually(
      async () => (issuesState({ fake: app.fake.context }).comments.length > 0 ? true : undefined),
      "the ChatOps reply",
    );
    const lines = app.logs.entries();
    const request = lines.find((e) => e.requestId === delivery && e.delivery === delivery);
    expect(request).toMatchObject({ event: "issue_comment", res: { statusCode: 200 } });
    expect(app.logs.text).not.toContain(TOKEN);
    expect(app.logs.text).not.toContain("BEGIN PRIVATE KEY");
  });
});
