import { writeFileSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { type OpsServer, startOpsServer } from "./ops-server.js";

/**
 * What the services config loader reads, per path: `readFile` calls, and the bytes read
 * through handles from `open`. `afterRead` runs when a handle on the path is closed (a
 * writer that keeps writing between two reads).
 */
const probe = vi.hoisted(() => ({
  readFile: [] as string[],
  bytes: new Map<string, number>(),
  opens: new Map<string, number>(),
  afterRead: undefined as ((path: string) => void) | undefined,
}));

vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  const readFile = (async (...args: Parameters<typeof actual.readFile>) => {
    probe.readFile.push(String(args[0]));
    return actual.readFile(...args);
  }) as typeof actual.readFile;
  const open = (async (...args: Parameters<typeof actual.open>) => {
    const path = String(args[0]);
    const handle = await actual.open(...args);
    probe.opens.set(path, (probe.opens.get(path) ?? 0) + 1);
    return new Proxy(handle, {
      get(target, prop) {
        if (prop === "readFile") {
          return (...a: unknown[]) => {
            probe.readFile.push(path);
            return (target.readFile as (...x: unknown[]) => unknown)(...a);
          };
        }
        if (prop === "read") {
          return async (...a: unknown[]) => {
            const result = await (
              target.read as (...x: unknown[]) => Promise<{ bytesRead: number }>
            )(...a);
            probe.bytes.set(path, (probe.bytes.get(path) ?? 0) + result.bytesRead);
            return result;
          };
        }
        if (prop === "close") {
          return async () => {
            await target.close();
            probe.afterRead?.(path);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }) as typeof actual.open;
  return { ...actual, default: { ...actual, readFile, open }, readFile, open };
});

const HUGE = 200 * 1024 * 1024;

describe("services config reads", () => {
  let root: string;
  let original: string;
  beforeAll(async () => {
    root = await fsp.mkdtemp(join(tmpdir(), "failover-api-config-reads-"));
    original = await fsp.readFile(DEMO_CONFIG, "utf8");
  });
  afterAll(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });
  afterEach(() => {
    probe.afterRead = undefined;
  });

  it("a huge (sparse) file at start is refused by its size, without reading it", async () => {
    const file = join(root, "huge.yaml");
    await fsp.writeFile(file, "");
    await fsp.truncate(file, HUGE); // sparse: nothing is written to disk
    await expect(
      startOpsServer({ FAILOVER_CONFIG: file, FAILOVER_CONFIG_WATCH: "false" }),
    ).rejects.toThrow(`${HUGE} bytes, larger than 262144 bytes; not read`);
    expect(probe.readFile).not.toContain(file);
    expect(probe.bytes.get(file) ?? 0).toBe(0);
  });

  describe("a running server", () => {
    let server: OpsServer;
    let file: string;
    const names = async () =>
      (
        (await (await server.call("/api/services")).json()) as { services: { name: string }[] }
      ).services.map((s) => s.name);
    const successes = async () =>
      Number(
        /^config_reload_total\{result="success"\} (\d+)$/m.exec(await server.metricsText())?.[1],
      );

    beforeAll(async () => {
      file = join(root, "services.yaml");
      await fsp.writeFile(file, original);
      // No watcher: each reload below is the test's own call, so nothing races it.
      server = await startOpsServer({ FAILOVER_CONFIG: file, FAILOVER_CONFIG_WATCH: "false" });
    });
    afterAll(async () => {
      await server?.close();
    });

    it("a file grown huge in place is refused without reading it; the last good config stays", async () => {
      await fsp.truncate(file, HUGE);
      probe.bytes.delete(file);
      expect(await server.runtime.configStore.reload()).toBe("failure");
      expect(probe.readFile).not.toContain(file);
      expect(probe.bytes.get(file) ?? 0).toBe(0);
      const ready = (await (await server.call("/api/ready")).json()) as {
        config: { lastError?: { message: string } };
      };
      expect(ready.config.lastError?.message).toContain("larger than 262144 bytes; not read");
      expect(await names()).toEqual(["radarr", "sonarr"]);
      await fsp.writeFile(file, original);
      expect(await server.runtime.configStore.reload()).toBe("success");
    });

    it("a file that changes between two reads is not taken; the settled content is", async () => {
      const next = original.replaceAll("radarr", "lidarr");
      // The writer has written only the first service when the first read happens...
      const half = next.slice(0, next.indexOf("  lidarr:"));
      await fsp.writeFile(file, half);
      // ...and finishes the file right after that read.
      probe.afterRead = (path) => {
        if (path !== file) return;
        probe.afterRead = undefined;
        writeFileSync(file, next);
      };
      const before = await successes();
      expect(await server.runtime.configStore.reload()).toBe("success");
      expect(await names()).toEqual(["lidarr", "sonarr"]);
      // One replacement: the half-written file (only sonarr) was never served.
      expect(await successes()).toBe(before + 1);
    });

    it("a file that keeps changing is refused; the last good config stays", async () => {
      const served = original.replaceAll("radarr", "lidarr");
      let n = 0;
      await fsp.writeFile(file, `${served}\n# write ${n}\n`);
      const rewrite = (path: string) => {
        if (path !== file) return;
        n++;
        writeFileSync(file, `${served}\n# write ${n}\n`);
      };
      probe.afterRead = rewrite;
      expect(await server.runtime.configStore.reload()).toBe("failure");
      probe.afterRead = undefined;
      expect(server.runtime.configStore.status().lastError?.message).toContain(
        "kept changing between reads",
      );
      expect(await names()).toEqual(["lidarr", "sonarr"]);
    });
  });

  it("a kubelet ..data volume is taken with one read", async () => {
    const dir = join(root, "configmap");
    await fsp.mkdir(join(dir, "..v1"), { recursive: true });
    await fsp.writeFile(join(dir, "..v1", "services.yaml"), original);
    await fsp.symlink("..v1", join(dir, "..data"));
    const file = join(dir, "services.yaml");
    await fsp.symlink(join("..data", "services.yaml"), file);
    const server = await startOpsServer({ FAILOVER_CONFIG: file, FAILOVER_CONFIG_WATCH: "false" });
    try {
      await fsp.mkdir(join(dir, "..v2"));
      await fsp.writeFile(
        join(dir, "..v2", "services.yaml"),
        original.replaceAll("radarr", "lidarr"),
      );
      await fsp.symlink("..v2", join(dir, "..data_tmp"));
      await fsp.rename(join(dir, "..data_tmp"), join(dir, "..data"));
      const opens = probe.opens.get(file) ?? 0;
      expect(await server.runtime.configStore.reload()).toBe("success");
      expect((probe.opens.get(file) ?? 0) - opens).toBe(1);
      expect(server.runtime.configStore.current().services.has("lidarr")).toBe(true);
    } finally {
      await server.close();
    }
  });
});
