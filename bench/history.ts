import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { composeRuntime } from "../src/compose.js";
import { parseEnv } from "../src/config/env.js";
import { DEMO_CONFIG } from "../src/demo/demo-repo.js";
import { executeFailover } from "../src/failover/execute-failover.js";
import { getHistory } from "../src/failover/history.js";
import { initRepo } from "../src/repo/local/local-git-repo.js";
import { demoRepoFiles } from "../test/helpers/files.js";

/** Goal of issue 8: a service's history on a 30k-commit repository, local mode. */
export const HISTORY_GOAL_MS = 3000;

export interface HistoryFigure {
  readonly commits: number;
  readonly found: number;
  readonly ms: number;
}

/**
 * The demo repository with one promote of sonarr, then `commits` unrelated commits on top
 * (git fast-import), and the time `GET .../history` takes to find the promote under them.
 */
export async function benchHistory(commits: number): Promise<HistoryFigure> {
  const root = await mkdtemp(join(tmpdir(), "failover-history-"));
  try {
    const dir = join(root, "repo");
    await initRepo(dir, demoRepoFiles());
    const logger = pino({ level: "silent" });
    const env = parseEnv({ GITOPS_REPO_PATH: dir, FAILOVER_CONFIG: DEMO_CONFIG });
    const runtime = await composeRuntime(env, logger);
    await executeFailover(runtime.ctx, {
      service: "sonarr",
      action: "promote",
      dryRun: false,
      trigger: "cli",
      requester: "bench",
    });
    const head = execFileSync("git", ["-C", dir, "rev-parse", "main"], { encoding: "utf8" }).trim();
    const chunks: string[] = [];
    for (let i = 0; i < commits; i++) {
      const message = `chore: unrelated change ${i}\n`;
      const content = `${i}\n`;
      chunks.push(
        "commit refs/heads/main\n",
        `committer bench <bench@example.com> ${1_700_000_000 + i} +0000\n`,
        `data ${Buffer.byteLength(message)}\n${message}`,
        i === 0 ? `from ${head}\n` : "",
        `M 100644 inline notes/noise-${i % 500}.txt\n`,
        `data ${Buffer.byteLength(content)}\n${content}\n`,
      );
    }
    execFileSync("git", ["-C", dir, "fast-import", "--quiet", "--force"], {
      input: chunks.join(""),
      maxBuffer: 64 * 1024 * 1024,
    });
    execFileSync("git", ["-C", dir, "reset", "--quiet", "--hard", "main"]);
    const started = performance.now();
    const history = await getHistory(runtime.ctx, "sonarr", 20);
    return { commits, found: history.length, ms: Math.round(performance.now() - started) };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
