import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { DEMO_CONFIG } from "../src/demo/demo-repo.js";
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

/**
 * The built server (`npm run build`, then `node dist/cli.js serve`) in GitHub mode against
 * a fake GitHub: spawn -> `GET /api/ready` 200, then its RSS after IDLE_MS idle.
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
  const starts: Sample[] = [];
  const idle: Sample[] = [];
  try {
    for (let i = 0; i < options.runs; i++) {
      const port = await freePort();
      const started = performance.now();
      const child = spawn(process.execPath, [CLI, "serve"], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          GITOPS_REPOSITORY: "acme/gitops",
          GITHUB_TOKEN: "x",
          GHE_HOST: new URL(fake.webUrl).host,
          GHE_PROTOCOL: "http",
          FAILOVER_CONFIG: DEMO_CONFIG,
          PORT: String(port),
          HOST: "127.0.0.1",
          LOG_LEVEL: "warn",
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
        starts.push({
          ms: readyMs,
          calls: 0,
          graphql: 0,
          rest: 0,
          writes: 0,
          commits: 0,
          routes: {},
          detail: "ready",
        });
        await new Promise((r) => setTimeout(r, IDLE_MS));
        const rss = await rssOf(child.pid ?? -1);
        idle.push({
          ms: rss / (1024 * 1024),
          calls: 0,
          graphql: 0,
          rest: 0,
          writes: 0,
          commits: 0,
          routes: {},
          detail: `${(rss / (1024 * 1024)).toFixed(1)} MB`,
        });
      } finally {
        child.kill("SIGKILL");
      }
    }
  } finally {
    await fake.close();
  }
  options.onProgress?.(`start -> ready: ${options.runs} run(s)`);
  return [
    {
      id: "start-ready",
      operation: "built server: start -> ready (ms)",
      note: "node dist/cli.js serve (GitHub mode) until GET /api/ready answers 200; goal <= 1000 ms",
      samples: starts,
    },
    {
      id: "idle-rss",
      operation: `built server: idle RSS after ${IDLE_MS / 1000} s (MB, in the ms columns)`,
      note: "VmRSS of the server process; goal <= 80 MB",
      samples: idle,
    },
  ];
}
