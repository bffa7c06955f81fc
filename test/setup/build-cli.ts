import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { BUILT_CLI_ENV, SPAWN_PROXY_ENV } from "../helpers/cli-process.js";
import { removeDeadRunFolders } from "./dead-run-folders.js";

/**
 * Vitest globalSetup: src/ transpiled once per run (esbuild, file by file, no bundle: what
 * tsx does to each module on the fly) into node_modules/.cache/failover-api-test/run-<pid>,
 * and its cli.js named to the workers in BUILT_CLI_ENV. The tests that start the server or
 * the CLI as a process (test/helpers/cli-process.ts) run that file with plain node: a tsx
 * start costs about 0.7 s more CPU (its loader), and those tests start dozens.
 *
 * The output sits two levels below a folder holding links to examples/, app.yml and
 * package.json, as dist/ sits below the repository: the modules find them as they do from
 * dist/ (`new URL("../../examples/", import.meta.url)`), and packages resolve up to the
 * repository's node_modules.
 */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CACHE = join(ROOT, "node_modules", ".cache", "failover-api-test");

export default async function setup(): Promise<() => void> {
  removeDeadRunFolders(CACHE, "run-");
  const home = join(CACHE, `run-${process.pid}`);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  for (const name of ["examples", "app.yml", "package.json"]) {
    symlinkSync(join(ROOT, name), join(home, name));
  }
  await build({
    entryPoints: [join(ROOT, "src", "**", "*.ts")],
    outdir: join(home, "dist"),
    outbase: join(ROOT, "src"),
    format: "esm",
    platform: "node",
    target: "node20",
    bundle: false,
    logLevel: "error",
    tsconfig: join(ROOT, "tsconfig.json"),
  });
  // The helper process that starts git for the test workers (test/helpers/spawn-proxy.ts).
  await build({
    entryPoints: [join(ROOT, "test", "helpers", "spawn-proxy-server.ts")],
    outdir: join(home, "proxy"),
    format: "esm",
    platform: "node",
    target: "node20",
    bundle: false,
    logLevel: "error",
  });
  process.env[BUILT_CLI_ENV] = join(home, "dist", "cli.js");
  process.env[SPAWN_PROXY_ENV] = join(home, "proxy", "spawn-proxy-server.js");
  return () => rmSync(home, { recursive: true, force: true });
}
