import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { git } from "../helpers/git.js";
import { type DemoServer, startDemoServer } from "../helpers/http-server.js";

/** Bad input gets a 4xx JSON error with a stable code, and nothing is written. */
describe("HTTP errors", () => {
  let server: DemoServer;
  let head: string;
  beforeEach(async () => {
    server = await startDemoServer();
    head = git(server.repoDir, "rev-parse", "main");
  });
  afterEach(async () => {
    expect(git(server.repoDir, "rev-parse", "main")).toBe(head);
    await server.close();
  });

  it.each([
    [
      "POST",
      "/api/failover/lidarr/promote",
      404,
      "not_found",
      /unknown service "lidarr"; configured: radarr, sonarr/,
    ],
    ["GET", "/api/failover/lidarr/status", 404, "not_found", /unknown service/],
    ["POST", "/api/failover/sonarr/explode", 400, "invalid_input", /unknown action "explode"/],
    ["POST", "/api/failover/Sonarr!/promote", 400, "invalid_input", /lowercase DNS labels/],
    ["GET", "/api/failover/sonarr/promote", 405, "method_not_allowed", /use POST .*dry-run=true/],
    ["POST", "/api/failover/sonarr/status", 405, "method_not_allowed", /GET/],
    ["DELETE", "/api/failover/sonarr/promote", 405, "method_not_allowed", /POST/],
    [
      "POST",
      "/api/failover/sonarr/promote?dry-run=maybe",
      400,
      "invalid_input",
      /dry-run must be true or false/,
    ],
    [
      "POST",
      "/api/failover/sonarr/promote?dry-run=true&dry-run=false",
      400,
      "invalid_input",
      /once/,
    ],
    ["GET", "/api/nope", 404, "not_found", /no route GET \/api\/nope/],
    ["GET", "/nope", 404, "not_found", /no route GET \/nope/],
  ])("%s %s -> %i %s", async (method, path, status, code, message) => {
    const res = await fetch(`${server.url}${path}`, { method });
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.message).toMatch(message);
    if (status === 405) expect(res.headers.get("allow")).toMatch(/GET|POST/);
  });
});

describe("refusals", () => {
  let server: DemoServer;
  afterEach(async () => {
    await server.close();
  });

  it("a templated claim is refused with 422, naming the file and field", async () => {
    server = await startDemoServer();
    const path = join(server.repoDir, "clusters/homelab/apps/media/radarr/deployment.yaml");
    const text = readFileSync(path, "utf8").replace(
      "claimName: pvc-radarr",
      "claimName: ${RADARR_CLAIM}",
    );
    await writeFile(path, text);
    git(server.repoDir, "commit", "-qam", "templated claim");
    const head = git(server.repoDir, "rev-parse", "main");
    const res = await fetch(`${server.url}/api/failover/radarr/promote`, { method: "POST" });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("refused");
    expect(body.error.message).toContain("radarr/deployment.yaml");
    expect(git(server.repoDir, "rev-parse", "main")).toBe(head);
  });

  it("a service whose manifest is missing is refused with a hint to set path", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(join(tmpdir(), "cfg-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const config = join(dir, "services.yaml");
    await writeFile(
      config,
      `${readFileSync(DEMO_CONFIG, "utf8")}
  lidarr:
    namespace: media
    deployment: lidarr
    volume_name: lidarr-data
    primary_pvc: pvc-lidarr
    backup_pvc: pvc-lidarr-backup
    primary_node_label: primary
    backup_node_label: backup
`,
    );
    server = await startDemoServer({ FAILOVER_CONFIG: config });
    const res = await fetch(`${server.url}/api/failover/lidarr/promote`, { method: "POST" });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/no manifest found for service "lidarr".*set "path"/);
  });
});
