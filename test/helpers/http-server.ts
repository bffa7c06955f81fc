import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { composeRuntime, type Runtime } from "../../src/compose.js";
import { parseEnv } from "../../src/config/env.js";
import { createHttpApp, listen, type RunningServer } from "../../src/server.js";
import { demoRepoCopy, isDemoMode } from "./repo-template.js";
import { TEST_BOUNDS } from "./test-bounds.js";

export interface DemoServer {
  readonly url: string;
  readonly repoDir: string;
  readonly runtime: Runtime;
  close(): Promise<void>;
}

/** The real composition (demo backend in a temp dir) behind the real HTTP server on port 0. */
export async function startDemoServer(env: Record<string, string> = {}): Promise<DemoServer> {
  const root = await mkdtemp(join(tmpdir(), "failover-api-http-"));
  if (isDemoMode(env)) await demoRepoCopy(join(root, "demo"));
  const logger = pino({ level: "silent" });
  const runtime = await composeRuntime(
    parseEnv({ DEMO_REPO: join(root, "demo"), ...TEST_BOUNDS, ...env }),
    logger,
  );
  const server: RunningServer = await listen(createHttpApp(runtime.ctx, logger), 0, "127.0.0.1");
  return {
    url: server.url,
    repoDir: runtime.repoLocation,
    runtime,
    close: async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
