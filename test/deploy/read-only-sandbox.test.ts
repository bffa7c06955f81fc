import { spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BUILT_CLI_ENV } from "../helpers/cli-process.js";
import { DEPLOY_DIR, ROOT } from "./render.js";
import {
  openSandbox,
  runInSandbox,
  type Sandbox,
  type SandboxedServer,
  startSandboxedServer,
} from "./sandbox.js";

/**
 * The production constraints, proven on the real server: `npm run build`'s output runs as
 * uid 1000 on a read-only filesystem whose only writable place is an in-memory /tmp (the
 * Deployment's securityContext and emptyDir), in the no-credentials demo mode the image
 * defaults to (DEMO_REPO=/tmp/demo-repo). Every endpoint is exercised, and a promote makes a
 * real commit in the sandbox's /tmp.
 *
 * The app goes to node_modules/.cache/ (like the image's /app: dist/, examples/,
 * package.json; node_modules is found one level up) BEFORE the sandbox starts, then the
 * sandbox sees it read-only.
 */
const ENV = {
  HOME: "/tmp",
  NODE_ENV: "production",
  DEMO_REPO: "/tmp/demo-repo",
  PORT: "0",
  HOST: "127.0.0.1",
  LOG_LEVEL: "info",
} as const;

let app: string;
let sandbox: Sandbox;
let server: SandboxedServer;

beforeAll(async () => {
  const cache = join(ROOT, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  app = mkdtempSync(join(cache, "failover-api-sandbox-"));
  chmodSync(app, 0o755);
  // The modules as dist/ holds them: src/ transpiled file by file, the layout of
  // tsconfig.build.json (rootDir src). The run's globalSetup (test/setup/build-cli.ts) made
  // them with esbuild; tsc's output does not differ in what runs (isolatedModules and
  // verbatimModuleSyntax: types are erased, nothing else), and a second transpile here was
  // three quarters of this file's CPU. That `npm run build` itself succeeds is
  // `npm run check`'s (it runs the build) and the image build's.
  const built = process.env[BUILT_CLI_ENV];
  if (built === undefined)
    throw new Error(`${BUILT_CLI_ENV} unset: run through vitest's globalSetup`);
  cpSync(dirname(built), join(app, "dist"), { recursive: true });
  cpSync(join(ROOT, "package.json"), join(app, "package.json"));
  cpSync(join(ROOT, "examples"), join(app, "examples"), { recursive: true });
  sandbox = openSandbox(app);
  console.info(`sandbox: ${sandbox.mode}`);
  server = await startSandboxedServer(sandbox, app, ENV);
  // A server start: a busy machine (other suites on the same two cores) took the
  // whole 120 s once; a slow machine makes this slower, not red.
}, 300_000);

afterAll(async () => {
  if (
    server !== undefined &&
    (await Promise.race([server.exited, Promise.resolve("running")])) === "running"
  ) {
    await server.stop();
  }
  if (app !== undefined) rmSync(app, { recursive: true, force: true });
});

async function call(method: string, path: string) {
  const response = await fetch(`${server.url}${path}`, { method });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

/**
 * git on the demo repository in the sandbox's in-memory /tmp, from outside, through
 * /proc/<pid>/root (git would resolve that link in -C to the host's root; GIT_DIR and a
 * working directory opened through it are taken as they are).
 */
function sandboxGit(...args: string[]): string {
  const dir = `/proc/${server.pid}/root/tmp/demo-repo`;
  const run = spawnSync("git", ["-c", "safe.directory=*", ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_DIR: `${dir}/.git` },
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`git ${args.join(" ")}: ${run.stderr}`);
  return run.stdout.trim();
}

describe("the built server in a read-only, uid 1000 sandbox (demo mode)", () => {
  it("runs as uid 1000 without capabilities", () => {
    const status = readFileSync(`/proc/${server.pid}/status`, "utf8");
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    const hostUid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    if (sandbox.mode === "real uid 1000 (setpriv + bwrap)") expect(hostUid).toBe(1000);
    const inside = runInSandbox(sandbox, app, "id -u; id -g").split("\n");
    expect(inside.slice(0, 2)).toEqual(["1000", "1000"]);
  });

  it("can write /tmp and nothing else: not /, /etc, the work tree, nor the built app", () => {
    const targets = [
      "/probe",
      "/etc/probe",
      join(ROOT, "probe"),
      join(app, "dist/probe"),
      join(app, "probe"),
    ];
    const script = [
      ...targets.map(
        (t) => `touch ${t} 2>/dev/null && echo "${t}: written" || echo "${t}: refused"`,
      ),
      `touch ${targets.join(" ")} 2>&1 | grep -c "Read-only file system"`,
      "mkdir /tmp/probe && touch /tmp/probe/file && echo '/tmp: written'",
      "stat -f -c '/tmp: %T' /tmp",
    ].join("\n");
    const lines = runInSandbox(sandbox, app, script).trim().split("\n");
    expect(lines).toEqual([
      ...targets.map((t) => `${t}: refused`),
      String(targets.length),
      "/tmp: written",
      "/tmp: tmpfs",
    ]);
    for (const t of targets) expect(existsSync(t), t).toBe(false);
  });

  it("GET /api/health and the Deployment's probe paths answer 200", async () => {
    expect(await call("GET", "/api/health")).toMatchObject({ status: 200, body: { status: "ok" } });
    const deployment = parse(readFileSync(join(DEPLOY_DIR, "deployment.yaml"), "utf8")) as {
      spec: {
        template: {
          spec: { containers: { livenessProbe: ProbeSpec; readinessProbe: ProbeSpec }[] };
        };
      };
    };
    const [container] = deployment.spec.template.spec.containers;
    for (const probe of [container?.livenessProbe, container?.readinessProbe]) {
      const path = probe?.httpGet.path ?? "(no probe)";
      expect((await call("GET", path)).status, path).toBe(200);
    }
  });

  it("GET /api/services lists the demo's services", async () => {
    const { status, body } = await call("GET", "/api/services");
    expect(status).toBe(200);
    const names = (body.services as { name: string }[]).map((s) => s.name).sort();
    expect(names).toEqual(["radarr", "sonarr"]);
  });

  it("status, dry run, promote (a commit in the sandbox's /tmp), again, demote", async () => {
    const before = await call("GET", "/api/failover/sonarr/status");
    expect(before).toMatchObject({ status: 200, body: { state: "primary" } });
    const initialHead = String(before.body.head);
    expect(sandboxGit("rev-parse", "HEAD")).toBe(initialHead);

    const dryRun = await call("GET", "/api/failover/sonarr/promote?dry-run=true");
    expect(dryRun).toMatchObject({ status: 200, body: { outcome: "dry_run", dry_run: true } });
    expect(String(dryRun.body.diff)).toContain("pvc-sonarr-backup");
    expect(sandboxGit("rev-parse", "HEAD")).toBe(initialHead);

    const promote = await call("POST", "/api/failover/sonarr/promote");
    expect(promote).toMatchObject({ status: 200, body: { outcome: "applied", to: "backup" } });
    const commit = (promote.body.commit as { sha: string }).sha;
    expect(sandboxGit("rev-parse", "HEAD")).toBe(commit);
    expect(sandboxGit("rev-parse", "HEAD~1")).toBe(initialHead);
    const changed = sandboxGit("show", "--format=", "--unified=0", "HEAD");
    expect(changed).toMatch(/^\+\s+claimName: pvc-sonarr-backup$/m);
    expect(await call("GET", "/api/failover/sonarr/status")).toMatchObject({
      body: { state: "backup", head: commit },
    });

    const again = await call("POST", "/api/failover/sonarr/promote");
    expect(again).toMatchObject({ status: 200, body: { outcome: "no_op" } });
    expect(sandboxGit("rev-parse", "HEAD")).toBe(commit);

    const demote = await call("POST", "/api/failover/sonarr/demote");
    expect(demote).toMatchObject({ status: 200, body: { outcome: "applied", to: "primary" } });
    expect(await call("GET", "/api/failover/sonarr/status")).toMatchObject({
      body: { state: "primary" },
    });
    // Byte for byte the manifest of the start.
    expect(sandboxGit("diff", initialHead, "HEAD")).toBe("");
    expect(Number(sandboxGit("rev-list", "--count", "HEAD"))).toBe(3);
  });

  it("answers errors as JSON: 404 unknown service or route, 405 GET promote, 400 bad verb", async () => {
    expect(await call("GET", "/api/failover/nosuch/status")).toMatchObject({
      status: 404,
      body: { error: { code: "not_found" } },
    });
    const get = await call("GET", "/api/failover/sonarr/promote");
    expect(get).toMatchObject({ status: 405, body: { error: { code: "method_not_allowed" } } });
    expect(get.headers.get("allow")).toBe("POST");
    expect(await call("POST", "/api/failover/sonarr/explode")).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_input" } },
    });
    expect(await call("GET", "/api/nothing-here")).toMatchObject({
      status: 404,
      body: { error: { code: "not_found" } },
    });
  });

  it("cannot create its demo repository outside /tmp: the server exits, nothing written", () => {
    const outside = join(app, "demo-repo");
    const [file = "", ...args] = sandbox.command(app, [process.execPath, "dist/cli.js", "list"]);
    const run = spawnSync(file, args, {
      cwd: ROOT,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...ENV, DEMO_REPO: outside },
    });
    expect(run.status).toBe(1);
    // Node's recursive mkdir reports EROFS as ENOENT; the message says what to do instead.
    expect(run.stderr).toContain(
      `config_invalid: cannot create the demo repository at ${outside} (ENOENT); set DEMO_REPO to a writable directory`,
    );
    expect(statSync(app).isDirectory()).toBe(true);
    expect(existsSync(outside)).toBe(false);
  });

  it("stops on SIGTERM with exit code 0", async () => {
    expect(await server.stop()).toBe(0);
  });
});

describe("the built dist/", () => {
  it("imports only production dependencies (what npm ci --omit=dev installs)", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const builtins = new Set(builtinModules);
    const imported = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith(".js")) {
          const source = readFileSync(path, "utf8");
          for (const m of source.matchAll(
            /(?:from\s+|import\s*\(\s*|import\s+)["']([^"'./][^"']*)["']/g,
          )) {
            const specifier = m[1] ?? "";
            const name = specifier.startsWith("@")
              ? specifier.split("/").slice(0, 2).join("/")
              : (specifier.split("/")[0] ?? "");
            if (!specifier.startsWith("node:") && !builtins.has(name)) imported.add(name);
          }
        }
      }
    };
    walk(join(app, "dist"));
    expect(imported.size).toBeGreaterThan(3);
    for (const name of imported) {
      expect(Object.keys(pkg.dependencies), `dist/ imports ${name}`).toContain(name);
    }
  });
});

interface ProbeSpec {
  readonly httpGet: { readonly path: string };
}
