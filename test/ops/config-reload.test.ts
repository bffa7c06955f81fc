import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { eventually, type OpsServer, startOpsServer } from "./ops-server.js";

/**
 * A ConfigMap volume as the kubelet writes it: the data in a timestamped directory, `..data`
 * a symlink to it, and `services.yaml` a symlink through `..data`. An update writes a new
 * directory and atomically renames a new `..data` symlink over the old one.
 */
class ConfigMapVolume {
  #version = 0;
  constructor(readonly dir: string) {}

  get file(): string {
    return join(this.dir, "services.yaml");
  }

  async init(text: string): Promise<void> {
    await this.#writeVersion(text);
    await symlink(`..v${this.#version}`, join(this.dir, "..data"));
    await symlink(join("..data", "services.yaml"), this.file);
  }

  async update(text: string): Promise<void> {
    const previous = this.#version;
    await this.#writeVersion(text);
    const tmp = join(this.dir, "..data_tmp");
    await symlink(`..v${this.#version}`, tmp);
    await rename(tmp, join(this.dir, "..data"));
    await rm(join(this.dir, `..v${previous}`), { recursive: true, force: true });
  }

  async #writeVersion(text: string): Promise<void> {
    this.#version++;
    const dir = join(this.dir, `..v${this.#version}`);
    await mkdir(dir);
    await writeFile(join(dir, "services.yaml"), text);
  }
}

describe("services config hot reload (ConfigMap volume)", () => {
  let root: string;
  let volume: ConfigMapVolume;
  let server: OpsServer;
  let original: string;

  const serviceNames = async () => {
    const body = (await (await server.call("/api/services")).json()) as {
      services: { name: string }[];
    };
    return body.services.map((s) => s.name);
  };
  const ready = async () => {
    const res = await server.call("/api/ready");
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "failover-api-configmap-"));
    volume = new ConfigMapVolume(join(root, "config"));
    await mkdir(volume.dir);
    original = await readFile(DEMO_CONFIG, "utf8");
    await volume.init(original);
    server = await startOpsServer({ FAILOVER_CONFIG: volume.file }, { root });
  });
  afterAll(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  it("serves the loaded config and is ready", async () => {
    expect(await serviceNames()).toEqual(["radarr", "sonarr"]);
    const { status, body } = await ready();
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: "ready",
      backend: "demo",
      config: { source: volume.file },
    });
    expect(body.config).not.toHaveProperty("lastError");
    expect(await server.metricsText()).toMatch(/^config_valid 1$/m);
  });

  it("a ConfigMap update takes effect without a restart", async () => {
    await volume.update(original.replaceAll("radarr", "lidarr"));
    const names = await eventually(async () => {
      const now = await serviceNames();
      return now.includes("lidarr") ? now : undefined;
    }, "the updated config to be served");
    expect(names).toEqual(["lidarr", "sonarr"]);
    const res = await server.call("/api/failover/radarr/status");
    expect(res.status).toBe(404);
    expect(await server.metricsText()).toMatch(/^config_reload_total\{result="success"\} 2$/m);
  });

  it("an invalid update keeps the last good config; readiness, logs and metrics show why", async () => {
    await volume.update("services:\n  sonarr: [not, a, service\n");
    const { body } = await eventually(async () => {
      const r = await ready();
      return (r.body.config as Record<string, unknown>).lastError === undefined ? undefined : r;
    }, "readiness to report the reload error");
    expect((await ready()).status).toBe(200);
    expect(body).toMatchObject({
      status: "ready",
      config: { lastError: { message: expect.stringContaining("not valid YAML") } },
    });
    expect(await serviceNames()).toEqual(["lidarr", "sonarr"]);
    const metrics = await server.metricsText();
    expect(metrics).toMatch(/^config_valid 0$/m);
    expect(metrics).toMatch(/^config_reload_total\{result="failure"\} 1$/m);
    expect(server.logs.text).toContain("services config reload failed");

    // A config that is YAML but not a valid services file is refused the same way.
    await volume.update("services:\n  sonarr:\n    namespace: media\n");
    await eventually(
      async () =>
        (await server.metricsText()).match(/^config_reload_total\{result="failure"\} 2$/m)
          ? true
          : undefined,
      "the second refusal",
    );
    expect(await serviceNames()).toEqual(["lidarr", "sonarr"]);
  });

  it("recovers with the next valid update", async () => {
    await volume.update(original);
    await eventually(async () => {
      const r = await ready();
      return (r.body.config as Record<string, unknown>).lastError === undefined ? r : undefined;
    }, "the error to clear");
    expect(await serviceNames()).toEqual(["radarr", "sonarr"]);
    expect(await server.metricsText()).toMatch(/^config_valid 1$/m);
    const promote = await server.call("/api/failover/radarr/promote", { method: "POST" });
    expect(promote.status).toBe(200);
  });

  it("a missing file keeps the last good config", async () => {
    await rm(join(volume.dir, "..data"));
    await eventually(async () => {
      const r = await ready();
      const error = (r.body.config as { lastError?: { message: string } }).lastError;
      return error?.message.includes("ENOENT") ? r : undefined;
    }, "the missing file to be reported");
    expect(await serviceNames()).toEqual(["radarr", "sonarr"]);
    expect((await server.call("/api/health")).status).toBe(200);
  });
});
