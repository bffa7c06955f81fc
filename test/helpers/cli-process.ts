import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Set by test/setup/build-cli.ts (vitest globalSetup): the transpiled src/cli.ts. */
export const BUILT_CLI_ENV = "FAILOVER_TEST_BUILT_CLI";
/** Set by the same globalSetup: the transpiled spawn-proxy-server.ts (spawn-proxy.ts). */
export const SPAWN_PROXY_ENV = "FAILOVER_TEST_SPAWN_PROXY_SERVER";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TSX = new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url).href;

/**
 * The node arguments that run the CLI (`[...cliArgs(), "serve"]` as a server): the run's
 * transpiled src/cli.ts when the suite's globalSetup built it, else src/cli.ts through tsx
 * (a file run without the config). Absolute paths: any cwd works.
 */
export function cliArgs(): string[] {
  const built = process.env[BUILT_CLI_ENV];
  if (built !== undefined && built !== "") return [built];
  return ["--import", TSX, `${ROOT}src/cli.ts`];
}

/**
 * A folder `name` in the run's own folder (the one globalSetup built src/ into and removes at
 * the end of the run), made when missing; undefined outside a run.
 */
export function runFolder(name: string): string | undefined {
  const built = process.env[BUILT_CLI_ENV];
  if (built === undefined || built === "") return undefined;
  const dir = join(dirname(dirname(built)), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
