import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { composeRuntime, type Runtime } from "../../src/compose.js";
import { parseEnv } from "../../src/config/env.js";
import { initRepo, LocalGitRepo } from "../../src/repo/local/local-git-repo.js";
import { createHttpApp, listen, type RunningServer } from "../../src/server.js";
import { demoRepoFiles } from "../helpers/files.js";
import {
  generatedConfig,
  generatedManifest,
  generatedServices,
} from "../helpers/generated-services.js";
import { RADARR_PATH, serviceFile } from "../proof/fixture.js";

const GHOST = "clusters/homelab/apps/media/ghost/deployment.yaml";

interface AllStatusBody {
  branch: string;
  head: string;
  services: { service: string; state: string; head: string; reason?: string }[];
}

/** GET /api/status on the local backend: one read for every service, unknown per service. */
describe("GET /api/status (local backend)", () => {
  let root: string;
  let dir: string;
  let runtime: Runtime;
  let server: RunningServer;
  const services = generatedServices(3, "clusters/homelab/apps/generated");

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "all-status-"));
    dir = join(root, "repo");
    const files = demoRepoFiles();
    const radarr = files[RADARR_PATH] ?? "";
    for (const s of services) files[s.path] = generatedManifest(radarr, s.name);
    await initRepo(dir, files);
    const configPath = join(root, "services.yaml");
    // "ghost" names a manifest that does not exist: unknown, never a failed answer.
    await writeFile(configPath, generatedConfig([...services, { name: "ghost", path: GHOST }]));
    const logger = pino({ level: "silent" });
    runtime = await composeRuntime(
      parseEnv({ GITOPS_REPO_PATH: dir, FAILOVER_CONFIG: configPath }),
      logger,
    );
    server = await listen(createHttpApp(runtime.ctx, logger), 0, "127.0.0.1");
  });
  afterEach(async () => {
    await server.close();
    runtime.close();
    await rm(root, { recursive: true, force: true });
  });

  const allStatus = async () => {
    const res = await fetch(`${server.url}/api/status`);
    expect(res.status).toBe(200);
    return (await res.json()) as AllStatusBody;
  };
  const stateOf = (body: AllStatusBody, name: string) =>
    body.services.find((s) => s.service === name)?.state;

  it("every service from one read, cached while the head stays; moved heads and promotes show", async () => {
    const reads = vi.spyOn(runtime.ctx.repo, "read");
    const probes = vi.spyOn(runtime.ctx.repo, "probeHead");
    const head = (await new LocalGitRepo({ dir }).read("main", [])).head;

    const cold = await allStatus();
    expect(cold).toMatchObject({ branch: "main", head });
    expect(cold.services.map((s) => s.service)).toEqual([
      "ghost",
      "radarr",
      "sonarr",
      "svc-01",
      "svc-02",
      "svc-03",
    ]);
    expect(cold.services.filter((s) => s.state === "primary")).toHaveLength(5);
    const ghost = cold.services.find((s) => s.service === "ghost");
    expect(ghost).toMatchObject({ state: "unknown", head });
    expect(ghost?.reason).toMatch(/ghost\/deployment\.yaml of service "ghost" does not exist/);
    expect(reads).toHaveBeenCalledTimes(1);

    // The same head: served from the cache, single status too.
    expect(await allStatus()).toEqual(cold);
    const single = await fetch(`${server.url}/api/failover/svc-02/status`);
    expect(await single.json()).toEqual(cold.services.find((s) => s.service === "svc-02"));
    expect(reads).toHaveBeenCalledTimes(1);
    expect(probes).toHaveBeenCalledTimes(3);

    // Someone else commits: one read again, their change shows.
    const path = services[0]?.path ?? "";
    const other = new LocalGitRepo({ dir });
    const text = (await other.read("main", [path])).files.get(path) ?? "";
    const theirs = await other.commit({
      branch: "main",
      expectedHead: head,
      message: "someone else",
      changes: [{ path, text: serviceFile("svc-01", path, text).backup }],
    });
    const moved = await allStatus();
    expect(moved.head).toBe(theirs.sha);
    expect(stateOf(moved, "svc-01")).toBe("backup");
    expect(reads).toHaveBeenCalledTimes(2);

    // Our own promote: the next status has it.
    const promote = await fetch(`${server.url}/api/failover/sonarr/promote`, { method: "POST" });
    expect(((await promote.json()) as { outcome: string }).outcome).toBe("applied");
    const after = await allStatus();
    expect(stateOf(after, "sonarr")).toBe("backup");
    expect(after.head).not.toBe(theirs.sha);
  });
});
