import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { composeRuntime } from "../../src/compose.js";
import { parseEnv } from "../../src/config/env.js";
import { createHttpApp, listen, type RunningServer } from "../../src/server.js";
import { filesUnder } from "../helpers/files.js";
import {
  helmReleasePlacement,
  objectNames,
  type Placement,
  renderFluxKustomization,
  workloadPlacement,
} from "../helpers/flux-render.js";
import { changedBetween, commitCount, fileAt, git } from "../helpers/git.js";
import { startAppServer } from "../helpers/github-app-server.js";
import { copyOfRepo } from "../helpers/repo-template.js";

const SHAPES = "test/fixtures/homelab-shapes";
const FILES = filesUnder(SHAPES, ["README.md"]);
const APPS = "kubernetes/apps";

const side = (name: string, primary: string, backup: string) => `
    primary_pvc: ${primary}
    backup_pvc: ${backup}
    primary_node_label: primary
    backup_node_label: backup
    volume_name: ${name}`;

const CONFIG = `services:
  sonarr:
    namespace: media
    helmrelease: sonarr${side("config", "sonarr", "sonarr-backup")}
  radarr:
    namespace: media
    helmrelease: radarr${side("config", "radarr", "radarr-backup")}
  lidarr:
    namespace: media
    helmrelease: lidarr-app
    path: ${APPS}/media/lidarr/app/helmrelease.yaml${side("config", "lidarr-config", "lidarr-config-backup")}
  grafana:
    namespace: monitoring${side("grafana", "grafana", "grafana-backup")}
    targets:
      - {path: ${APPS}/monitoring/grafana/app/helmrelease.yaml, field: spec.values.nodeSelector.role, primary: primary, backup: backup}
      - {path: ${APPS}/monitoring/grafana/app/helmrelease.yaml, field: spec.values.persistence.existingClaim, primary: grafana, backup: grafana-backup}
  grafana-chart:
    namespace: monitoring
    helmrelease: grafana
    path: ${APPS}/monitoring/grafana/app/helmrelease.yaml${side("data", "grafana", "grafana-backup")}
  prowlarr:
    namespace: default
    deployment: prowlarr${side("config", "pvc-prowlarr", "pvc-prowlarr-backup")}
  ghost:
    namespace: media
    deployment: ghost${side("data", "ghost", "ghost-backup")}
`;

/** Each moved app: the Flux Kustomization that applies it, and how to read its placement. */
const RENDERED: Record<string, { ks: string; name: string; placement: (o: never) => Placement }> = {
  sonarr: { ks: `${APPS}/media/sonarr/ks.yaml`, name: "sonarr", placement: hr("sonarr") },
  radarr: { ks: `${APPS}/media/radarr/ks.yaml`, name: "radarr", placement: hr("radarr") },
  lidarr: { ks: `${APPS}/media/lidarr/ks.yaml`, name: "lidarr", placement: hr("lidarr-app") },
  grafana: { ks: `${APPS}/monitoring/grafana/ks.yaml`, name: "grafana", placement: hr("grafana") },
  prowlarr: {
    ks: "kubernetes/clusters/homelab/apps/default/prowlarr.yaml",
    name: "prowlarr",
    placement: (o: never) => workloadPlacement(o, "prowlarr"),
  },
};
function hr(name: string) {
  return (o: never) => helmReleasePlacement(o, name);
}
const BACKUP_CLAIM: Record<string, string> = {
  sonarr: "sonarr-backup",
  radarr: "radarr-backup",
  lidarr: "lidarr-config-backup",
  grafana: "grafana-backup",
  prowlarr: "pvc-prowlarr-backup",
};

/**
 * The render check: what Flux builds at `after` puts the app's pods on the backup node with
 * only the backup claim, and every object keeps its name (nothing renamed, so nothing pruned).
 */
function expectOnBackup(dir: string, before: string, after: string, app: string) {
  const r = RENDERED[app];
  if (r === undefined) throw new Error(app);
  const was = renderFluxKustomization(dir, before, r.ks, r.name);
  const now = renderFluxKustomization(dir, after, r.ks, r.name);
  expect(objectNames(now), `${app}: object names`).toEqual(objectNames(was));
  const placement = r.placement(now as never);
  expect(placement.nodeSelectors.length, app).toBeGreaterThan(0);
  for (const s of placement.nodeSelectors) expect(s?.role, `${app}: node`).toBe("backup");
  expect(new Set(placement.claims), `${app}: claims`).toEqual(new Set([BACKUP_CLAIM[app]]));
}

interface Backend {
  readonly url: string;
  readonly gitDir: string;
  close(): Promise<void>;
}

const backends: Record<
  string,
  (config: string, files?: Record<string, string>) => Promise<Backend>
> = {
  local: async (config, files = FILES) => {
    const root = await mkdtemp(join(tmpdir(), "homelab-shapes-"));
    const dir = join(root, "repo");
    await copyOfRepo(files, dir);
    await writeFile(join(root, "services.yaml"), config);
    const logger = pino({ level: "silent" });
    const runtime = await composeRuntime(
      parseEnv({ GITOPS_REPO_PATH: dir, FAILOVER_CONFIG: join(root, "services.yaml") }),
      logger,
    );
    const server: RunningServer = await listen(createHttpApp(runtime.ctx, logger), 0, "127.0.0.1");
    return {
      url: server.url,
      gitDir: dir,
      close: async () => {
        await server.close();
        await rm(root, { recursive: true, force: true });
      },
    };
  },
  github: async (config, files = FILES) => {
    const root = await mkdtemp(join(tmpdir(), "homelab-shapes-gh-"));
    await writeFile(join(root, "services.yaml"), config);
    const app = await startAppServer({
      files,
      env: { FAILOVER_CONFIG: join(root, "services.yaml") },
    });
    return {
      url: app.url,
      gitDir: app.fake.dir,
      close: async () => {
        await app.close();
        await rm(root, { recursive: true, force: true });
      },
    };
  },
};

describe.each(Object.keys(backends))("homelab shapes through the HTTP API (%s backend)", (kind) => {
  let backend: Backend;
  beforeEach(async () => {
    backend = await (backends[kind] as (c: string) => Promise<Backend>)(CONFIG);
  });
  afterEach(async () => {
    await backend.close();
  });
  const call = async (method: string, path: string) => {
    // A new connection each time: the render check blocks this process (kustomize runs
    // synchronously), on a busy machine past the server's keep-alive timeout, and a pooled
    // connection the server closes at that moment is an ECONNRESET, not a wrong answer.
    const res = await fetch(`${backend.url}${path}`, { method, headers: { connection: "close" } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const head = () => git(backend.gitDir, "rev-parse", "main").trim();

  it("a ${APP} claim that also names the PVC and the VolSync objects: written in place, APP untouched, nothing renamed", async () => {
    const start = head();
    const dry = await call("GET", "/api/failover/sonarr/promote?dry-run=true");
    expect(dry.status).toBe(200);
    expect(dry.body.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^kubernetes\/apps\/media\/sonarr\/ks\.yaml spec\.postBuild\.substitute\.APP: \$\{APP\} is also used by kubernetes\/components\/volsync\/pvc\.yaml PersistentVolumeClaim .*metadata\.name.*; failover does not change APP/,
        ),
      ]),
    );
    const res = await call("POST", "/api/failover/sonarr/promote");
    expect(res.body).toMatchObject({ outcome: "applied", from: "primary", to: "backup" });
    const after = head();
    expect(changedBetween(backend.gitDir, start, after)).toEqual({
      [`${APPS}/media/sonarr/app/helmrelease.yaml`]: [
        "-        role: primary",
        "+        role: backup",
        "-        existingClaim: ${APP}",
        "+        existingClaim: sonarr-backup",
      ],
      ".failover/originals/sonarr.yaml": expect.arrayContaining([
        '+    text: "${APP}"',
        "+    side: primary",
      ]),
    });
    expectOnBackup(backend.gitDir, start, after, "sonarr");
    expect((await call("GET", "/api/failover/sonarr/status")).body).toMatchObject({
      state: "backup",
    });
    expect((await call("POST", "/api/failover/sonarr/demote")).body).toMatchObject({
      outcome: "applied",
    });
    const helmrelease = `${APPS}/media/sonarr/app/helmrelease.yaml`;
    expect(fileAt(backend.gitDir, "main", helmrelease)).toBe(
      fileAt(backend.gitDir, start, helmrelease),
    );
    expect((await call("GET", "/api/failover/sonarr/status")).body).toMatchObject({
      state: "primary",
    });
  });

  it('"{{ .Release.Name }}" claims (mounted twice) and "{{ .Release.Name }}-config" with spec.releaseName: evaluated, both mounts moved, restored byte for byte', async () => {
    const start = head();
    expect((await call("GET", "/api/failover/radarr/status")).body).toMatchObject({
      state: "primary",
      observed: { claims: ["radarr"], nodes: ["primary"] },
    });
    const res = await call("POST", "/api/failover/radarr/promote");
    expect(res.body).toMatchObject({ outcome: "applied" });
    expect(
      changedBetween(backend.gitDir, start, head())[`${APPS}/media/radarr/app/helmrelease.yaml`],
    ).toEqual([
      "-        role: primary",
      "+        role: backup",
      '-        existingClaim: "{{ .Release.Name }}"',
      '+        existingClaim: "radarr-backup"',
      '-        existingClaim: "{{ .Release.Name }}"',
      '+        existingClaim: "radarr-backup"',
    ]);
    expectOnBackup(backend.gitDir, start, head(), "radarr");
    const lidarr = await call("POST", "/api/failover/lidarr/promote");
    expect(lidarr.body).toMatchObject({ outcome: "applied" });
    // A StatefulSet controller waits for the old pod: the plan says how to unblock it.
    expect(lidarr.body.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/a StatefulSet\) waits for the old pod.*out-of-service/),
      ]),
    );
    expectOnBackup(backend.gitDir, start, head(), "lidarr");
    await call("POST", "/api/failover/radarr/demote");
    await call("POST", "/api/failover/lidarr/demote");
    for (const app of ["radarr", "lidarr"]) {
      const f = `${APPS}/media/${app}/app/helmrelease.yaml`;
      expect(fileAt(backend.gitDir, "main", f), f).toBe(fileAt(backend.gitDir, start, f));
    }
  });

  it("another chart: refused as a HelmRelease (saying to use targets:), moved with field targets; status answers unknown with the reason", async () => {
    const refused = await call("POST", "/api/failover/grafana-chart/promote");
    expect(refused.status).toBe(422);
    expect(String((refused.body.error as { message: string }).message)).toMatch(
      /HelmRelease grafana uses chart grafana \(spec\.chart\.spec\.chart\); failover knows the values of the bjw-s app-template chart only\. For another chart, remove "helmrelease" from the service and list the fields .* as "targets:"/,
    );
    const status = await call("GET", "/api/failover/grafana-chart/status");
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      state: "unknown",
      reason: expect.stringMatching(/uses chart grafana/),
    });
    const start = head();
    expect((await call("POST", "/api/failover/grafana/promote")).body).toMatchObject({
      outcome: "applied",
    });
    expectOnBackup(backend.gitDir, start, head(), "grafana");
  });

  it("node-wide: each service planned and reported on its own (a missing manifest and another chart refused), the rest in one commit; render-checked; demote restores every file", async () => {
    const start = head();
    const commits = commitCount(backend.gitDir);
    const res = await call("POST", "/api/nodes/primary/promote");
    expect(res.status).toBe(200);
    const services = res.body.services as { service: string; result: string; message?: string }[];
    const byName = Object.fromEntries(services.map((s) => [s.service, s]));
    for (const app of ["sonarr", "radarr", "lidarr", "grafana", "prowlarr"]) {
      expect(byName[app]?.result, app).toBe("changed");
    }
    expect(byName.ghost).toMatchObject({
      result: "refused",
      message: expect.stringMatching(/no manifest found for service "ghost"/),
    });
    expect(byName["grafana-chart"]).toMatchObject({ result: "refused" });
    expect(commitCount(backend.gitDir)).toBe(commits + 1);
    const after = head();
    for (const app of Object.keys(RENDERED)) expectOnBackup(backend.gitDir, start, after, app);
    // prowlarr's Flux Kustomization lives in another folder; its dedicated variable moves there.
    expect(
      changedBetween(backend.gitDir, start, after)[
        "kubernetes/clusters/homelab/apps/default/prowlarr.yaml"
      ],
    ).toEqual(["-      PROWLARR_NODE: primary", "+      PROWLARR_NODE: backup"]);
    const back = await call("POST", "/api/nodes/primary/demote");
    expect(back.status).toBe(200);
    for (const path of Object.keys(FILES)) {
      expect(fileAt(backend.gitDir, "main", path), path).toBe(fileAt(backend.gitDir, start, path));
    }
  });
});

describe.each(Object.keys(backends))("files too big or binary (%s backend)", (kind) => {
  const big = `# ${"x".repeat(600_000)}\n`;
  const files = {
    ...FILES,
    // Next to the manifest (read for warnings): skipped, never a reason to refuse.
    [`${APPS}/media/radarr/app/huge-dashboard.yaml`]: big,
    [`${APPS}/media/radarr/app/logo.yaml`]: "PNG\0\0\u0001",
    // The manifest itself: refused, naming it.
    [`${APPS}/base/prowlarr/deployment.yaml`]: `${FILES[`${APPS}/base/prowlarr/deployment.yaml`]}${big}`,
  };
  let backend: Backend;
  beforeEach(async () => {
    backend = await (backends[kind] as (c: string, f: Record<string, string>) => Promise<Backend>)(
      CONFIG,
      files,
    );
  });
  afterEach(async () => {
    await backend.close();
  });

  it("a 600 KB and a binary sibling do not block a failover; an unreadable manifest is refused by name", async () => {
    const ok = await fetch(`${backend.url}/api/failover/radarr/promote`, { method: "POST" });
    expect(((await ok.json()) as { outcome: string }).outcome).toBe("applied");
    const refused = await fetch(`${backend.url}/api/failover/prowlarr/promote`, { method: "POST" });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(await refused.json())).toMatch(
      /kubernetes\/apps\/base\/prowlarr\/deployment\.yaml of service \\"prowlarr\\" cannot be read on main: it is larger than/,
    );
  });
});

describe("the render check itself", () => {
  it("fails on the commit the tool used to make (APP changed in ks.yaml renames the PVC and VolSync objects)", async () => {
    const root = await mkdtemp(join(tmpdir(), "render-check-"));
    try {
      const dir = join(root, "repo");
      await copyOfRepo(FILES, dir);
      const start = git(dir, "rev-parse", "main").trim();
      const ks = `${APPS}/media/sonarr/ks.yaml`;
      const hrPath = `${APPS}/media/sonarr/app/helmrelease.yaml`;
      await writeFile(
        join(dir, ks),
        fileAt(dir, start, ks).replace("APP: sonarr", "APP: sonarr-backup"),
      );
      await writeFile(
        join(dir, hrPath),
        fileAt(dir, start, hrPath).replace("role: primary", "role: backup"),
      );
      git(dir, "commit", "-qam", "the old, data-destroying promote");
      expect(() => expectOnBackup(dir, start, "main", "sonarr")).toThrow(/sonarr: object names/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("homelab shapes through the CLI (local backend)", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "homelab-cli-"));
    await copyOfRepo(FILES, join(root, "repo"));
    await writeFile(join(root, "services.yaml"), CONFIG);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });
  // In-process (runCli is what src/cli.ts runs): the text output is the subject here; the
  // executable's own argv, exit codes and streams are test/cli.test.ts's "cli process", and
  // two more node + tsx processes here were a second of CPU each.
  const cli = async (...args: string[]) => {
    let stdout = "";
    let stderr = "";
    const code = await runCli(args, {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      env: {
        GITOPS_REPO_PATH: join(root, "repo"),
        FAILOVER_CONFIG: join(root, "services.yaml"),
        LOG_LEVEL: "silent",
      },
    });
    if (code !== 0) throw new Error(`failover-api ${args.join(" ")} exited ${code}:\n${stderr}`);
    return { stdout, stderr };
  };

  it("node-wide text output names each service's warnings; the commit is render-checked", async () => {
    const dir = join(root, "repo");
    const start = git(dir, "rev-parse", "main").trim();
    const { stdout } = await cli("node", "primary", "promote");
    expect(stdout).toMatch(
      / {2}sonarr: changed \(primary -> backup\)\n {4}rpo: RPO unknown: no cluster access\n {4}warning: .*\$\{APP\} is also used by/,
    );
    expect(stdout).toMatch(/ {2}ghost: refused: no manifest found/);
    const after = git(dir, "rev-parse", "main").trim();
    for (const app of Object.keys(RENDERED)) expectOnBackup(dir, start, after, app);
    const status = await cli("status", "grafana-chart");
    expect(status.stdout).toMatch(/^grafana-chart: unknown/);
  });
});
