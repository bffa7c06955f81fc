import { appendFileSync } from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { promisify } from "node:util";

/**
 * Opt-in (FAILOVER_TEST_SPAWN_LOG=<file>, see vitest.config.ts): one tab-separated line per
 * process a test worker starts: its pid, the command, git's subcommand, and the first
 * project frames of the stack that started it. On this kind of machine a process started
 * by a worker holding a few hundred MB costs milliseconds of system time (fork copies the
 * page tables), so the number of processes is what to look at when the suite is slow.
 */
const LOG = process.env.FAILOVER_TEST_SPAWN_LOG;
const PATCHED = Symbol.for("failover-api.test.spawn-log");
const ROOT = new URL("../../", import.meta.url).pathname;

if (LOG !== undefined && LOG !== "" && !(globalThis as Record<symbol, unknown>)[PATCHED]) {
  (globalThis as Record<symbol, unknown>)[PATCHED] = true;
  // The CommonJS object, patched and synced: the project's ESM named imports of
  // node:child_process see the wrappers too.
  const cp = createRequire(import.meta.url)("node:child_process") as Record<
    string,
    (...args: unknown[]) => unknown
  >;
  const record = (args: unknown[]): void => {
    const frames = (new Error().stack ?? "")
      .split("\n")
      .slice(3)
      .filter((line) => line.includes(ROOT) && !line.includes("spawn-log"))
      .slice(0, 6)
      .map((line) =>
        line
          .trim()
          .replace(/^at .*?\(?/, "")
          .replace(ROOT, "")
          .replace(/\)$/, ""),
      );
    const line = [process.pid, String(args[0]), subcommand(args[1]), frames.join(" < ")];
    appendFileSync(LOG, `${line.join("\t")}\n`);
  };
  for (const name of ["spawn", "execFile", "execFileSync", "spawnSync"]) {
    const original = cp[name];
    if (original === undefined) continue;
    cp[name] = function logged(this: unknown, ...args: unknown[]) {
      record(args);
      return original.apply(this, args);
    };
    // util.promisify(execFile) must keep resolving { stdout, stderr } (the CLI and the bench
    // use it), so the wrapper has a logged form of the original's custom promisified one.
    const custom = (original as unknown as Record<symbol, unknown>)[promisify.custom];
    if (typeof custom === "function") {
      Object.defineProperty(cp[name], promisify.custom, {
        value: (...args: unknown[]) => {
          record(args);
          return custom(...args);
        },
      });
    }
  }
  syncBuiltinESMExports();
}

/** git's subcommand: the first argument that is neither an option nor an option's value. */
function subcommand(args: unknown): string {
  if (!Array.isArray(args)) return "";
  for (let i = 0; i < args.length; i++) {
    const arg = String(args[i]);
    if (arg === "-c" || arg === "-C") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return "";
}
