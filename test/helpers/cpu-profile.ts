import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { basename, join } from "node:path";
import { afterAll, expect } from "vitest";

/**
 * Opt-in (FAILOVER_TEST_CPU_PROFILE=<dir>, see vitest.config.ts): a V8 CPU profile of every
 * test file, written when the file ends (<dir>/<test file>.<pid>-<n>.cpuprofile, open it in Chrome's
 * DevTools or speedscope). `--cpu-prof` in execArgv is not enough: it writes at a normal
 * exit, and vitest ends its shared workers without one.
 */
const DIR = process.env.FAILOVER_TEST_CPU_PROFILE;
const STATE = Symbol.for("failover-api.test.cpu-profile");
const store = globalThis as Record<symbol, { session: Session; files: number } | undefined>;

if (DIR !== undefined && DIR !== "") {
  let state = store[STATE];
  if (state === undefined) {
    const session = new Session();
    session.connect();
    session.post("Profiler.enable");
    session.post("Profiler.setSamplingInterval", { interval: 1000 });
    state = { session, files: 0 };
    store[STATE] = state;
  }
  const { session } = state;
  session.post("Profiler.start");
  afterAll(async () => {
    const profile = await new Promise<unknown>((resolve, reject) => {
      session.post("Profiler.stop", (error, result) =>
        error === null ? resolve(result.profile) : reject(error),
      );
    });
    const n = ++(state as { files: number }).files;
    const file = basename(expect.getState().testPath ?? "unknown");
    writeFileSync(join(DIR, `${file}.${process.pid}-${n}.cpuprofile`), JSON.stringify(profile));
  });
}
