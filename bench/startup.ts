import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { DEMO_CONFIG, ensureDemoRepo } from "../src/demo/demo-repo.js";
import { startFakeGitHub } from "../test/fake-github/index.js";
import type { RowReport } from "./bench.js";
import type { Sample } from "./measure.js";
import { demoRepoFiles } from "./setup.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "..");
const CLI = join(ROOT, "dist", "cli.js");
/** How long the process is left idle before its RSS is read. */
const IDLE_MS = 2000;

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kb === undefined ? Number.NaN : Number(kb) * 1024;
}

/** One start of the built server: spawn -> `GET /api/ready` 200, then VmRSS after IDLE_MS idle. */
async function startOnce(env: Record<string, string>): Promise<{ readyMs: number; rss: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, "serve"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      FAILOVER_CONFIG: DEMO_CONFIG,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const stderr: string[] = [];
  child.stderr.setEncoding("utf8").on("data", (c: string) => stderr.push(c));
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  try {
    let readyMs: number | undefined;
    // Bounded by attempts, not a clock: 3,000 polls 10 ms apart at the least.
    for (let attempt = 0; attempt < 3000 && readyMs === undefined; attempt++) {
      if (exited) throw new Error(`server exited before ready: ${stderr.join("")}`);
      const ok = await fetch(`http://127.0.0.1:${port}/api/ready`)
        .then(async (r) => {
          await r.arrayBuffer();
          return r.status === 200;
        })
        .catch(() => false);
      if (ok) readyMs = performance.now() - started;
      else await new Promise((r) => setTimeout(r, 10));
    }
    if (readyMs === undefined) throw new Error("server never answered /api/ready");
    await new Promise((r) => setTimeout(r, IDLE_MS));
    return { readyMs, rss: await rssOf(child.pid ?? -1) };
  } finally {
    child.kill("SIGKILL");
  }
}

function sample(ms: number, detail: string): Sample {
  return { ms, calls: 0, graphql: 0, rest: 0, writes: 0, commits: 0, routes: {}, detail };
}

/**
 * The built server (`npm run build`, then `node dist/cli.js serve`): in GitHub mode (a
 * token, against a fake GitHub: GitHub's modules are loaded, Probot not, as no webhook can
 * arrive without an App) and in demo mode (a local repository: none of them), spawn ->
 * `GET /api/ready` 200, then its RSS after IDLE_MS idle.
 */
export async function benchStartup(options: {
  readonly runs: number;
  readonly build: boolean;
  readonly onProgress?: (line: string) => void;
}): Promise<RowReport[]> {
  if (options.build || !existsSync(CLI)) {
    options.onProgress?.("npm run build");
    await run("npm", ["run", "build", "--silent"], { cwd: ROOT });
  }
  const fake = await startFakeGitHub({ files: demoRepoFiles(), owner: "acme", repo: "gitops" });
  const demoRoot = await mkdtemp(join(tmpdir(), "failover-bench-demo-"));
  const demoRepo = join(demoRoot, "repo");
  const modes = [
    {
      suffix: "",
      name: "GitHub mode",
      env: {
        GITOPS_REPOSITORY: "acme/gitops",
        GITHUB_TOKEN: "x",
        GHE_HOST: new URL(fake.webUrl).host,
        GHE_PROTOCOL: "http",
      },
    },
    // The demo repository is made once, untimed: every run reuses it, as `npm start` does.
    { suffix: "-demo", name: "demo mode", env: { DEMO_REPO: demoRepo } },
  ] as const;
  const rows: RowReport[] = [];
  try {
    await ensureDemoRepo(demoRepo);
    for (const mode of modes) {
      const starts: Sample[] = [];
      const idle: Sample[] = [];
      for (let i = 0; i < options.runs; i++) {
        const { readyMs, rss } = await startOnce(mode.env);
        starts.push(sample(readyMs, "ready"));
        const mb = rss / (1024 * 1024);
        idle.push(sample(mb, `${mb.toFixed(1)} MB`));
      }
      rows.push(
        {
          id: `start-ready${mode.suffix}`,
          operation: `built server, ${mode.name}: start -> ready (ms)`,
          note: `node dist/cli.js serve (${mode.name}) until GET /api/ready answers 200; goal <= 1000 ms`,
          samples: starts,
        },
        {
          id: `idle-rss${mode.suffix}`,
          operation: `built server, ${mode.name}: idle RSS after ${IDLE_MS / 1000} s (MB, in the ms columns)`,
          note: "VmRSS of the server process; goal <= 80 MB",
          samples: idle,
        },
      );
    }
  } finally {
    await fake.close();
    await rm(demoRoot, { recursive: true, force: true });
  }
  options.onProgress?.(`start -> ready: ${options.runs} run(s) per mode`);
  return rows;
}
