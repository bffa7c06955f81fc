import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPrivateHost } from "../../src/http/cross-site.js";
import { git } from "../helpers/git.js";
import { type DemoServer, startDemoServer } from "../helpers/http-server.js";

/** A raw request: fetch will not let a test set `Host` (DNS rebinding) the way a browser does. */
function post(
  url: string,
  path: string,
  headers: Record<string, string>,
  body = "",
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      {
        method: "POST",
        headers: { "content-length": String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("writes a browser sends on another site's behalf (no API tokens: the demo)", () => {
  let server: DemoServer;
  let host: string;
  beforeAll(async () => {
    server = await startDemoServer();
    host = new URL(server.url).host;
  });
  afterAll(async () => {
    await server.close();
  });
  const head = () => git(server.repoDir, "rev-parse", "main");
  const form = { "content-type": "application/x-www-form-urlencoded" };

  it.each([
    ["an empty form from another origin", { ...form, origin: "https://evil.example" }],
    ["Sec-Fetch-Site: cross-site", { ...form, "sec-fetch-site": "cross-site" }],
    ["Sec-Fetch-Site: same-site", { ...form, "sec-fetch-site": "same-site" }],
    ["an opaque origin (sandboxed frame)", { ...form, origin: "null" }],
    [
      "DNS rebinding: Origin matches a public Host",
      { ...form, host: "evil.example:8080", origin: "http://evil.example:8080" },
    ],
  ])("%s: 403, nothing written", async (_name, headers) => {
    const before = head();
    const answer = await post(server.url, "/api/failover/sonarr/promote", headers);
    expect(answer.status, answer.text).toBe(403);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: "forbidden" } });
    expect(head()).toBe(before);
  });

  it("curl, Home Assistant (no Origin) and the page itself (same origin) still write", async () => {
    const dry = "/api/failover/sonarr/promote?dry-run=true";
    for (const headers of [
      {},
      { origin: `http://${host}`, "sec-fetch-site": "same-origin" },
      { host: "failover-api.flux-system.svc:8080" },
      { host: "failover-api:8080" },
    ]) {
      const answer = await post(server.url, dry, headers);
      expect(answer.status, `${JSON.stringify(headers)}: ${answer.text}`).toBe(200);
    }
    const before = head();
    const promoted = await post(server.url, "/api/failover/sonarr/promote", {});
    expect(promoted.status, promoted.text).toBe(200);
    expect(head()).not.toBe(before);
  });
});

describe("isPrivateHost", () => {
  it.each([
    ["127.0.0.1:8080", true],
    ["[::1]:8080", true],
    ["192.168.1.20", true],
    ["localhost:8080", true],
    ["failover-api", true],
    ["failover-api.flux-system.svc", true],
    ["failover-api.flux-system.svc.cluster.local:8080", true],
    ["nas.home.arpa", true],
    ["failover.lan", true],
    ["failover.example.com", false],
    ["evil.example:8080", false],
    ["", false],
    [undefined, false],
  ])("%s -> %s", (host, expected) => {
    expect(isPrivateHost(host)).toBe(expected);
  });
});
