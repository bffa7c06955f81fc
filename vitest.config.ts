import { defineConfig } from "vitest/config";
import SizeSequencer from "./test/setup/size-sequencer.js";

/**
 * Files that need a process of their own: config-reads mocks node:fs/promises (vi.mock) under
 * modules other files loaded; the local adapter's recovery tells a dead process's lock files
 * by this process's start time (a worker that ran other files first started earlier). A new
 * file that mocks a module or depends on the process's age belongs here too.
 */
const OWN_PROCESS = ["test/ops/config-reads.test.ts", "test/repo/local-git-repo.test.ts"];

/**
 * nock patches node:http and fetch for the whole process: its files never share a process
 * with the other files, only with each other (a process runs them one after another; each
 * disables net connect first, cleans its interceptors after every test and enables net
 * connect again at its end). A process for each cost a worker's start and imports every time.
 * A file that patches another global belongs in OWN_PROCESS.
 */
const NOCK = ["test/**/*.nock.test.ts"];

/**
 * Tools to find what to make cheaper: FAILOVER_TEST_CPU_LOG=<file>, each file's CPU (its child
 * processes' included) and its worker's memory, a JSON line a file (cpu-per-file.ts;
 * FAILOVER_TEST_CPU_GC=1 collects garbage first); FAILOVER_TEST_SPAWN_LOG=<file>, every
 * process a worker starts and who started it (spawn-log.ts); FAILOVER_TEST_CPU_PROFILE=<dir>, a
 * V8 CPU profile per file (cpu-profile.ts).
 */
const DIAGNOSTICS = [
  ...(process.env.FAILOVER_TEST_CPU_LOG ? ["test/helpers/cpu-per-file.ts"] : []),
  ...(process.env.FAILOVER_TEST_SPAWN_LOG ? ["test/helpers/spawn-log.ts"] : []),
  ...(process.env.FAILOVER_TEST_CPU_PROFILE ? ["test/helpers/cpu-profile.ts"] : []),
];

/** FAILOVER_TEST_SPAWN_PROXY=off: the workers start git themselves (to compare). */
const SPAWN_PROXY =
  process.env.FAILOVER_TEST_SPAWN_PROXY === "off" ? [] : ["test/helpers/spawn-proxy.ts"];

/**
 * `npm test`: unit, contract and end-to-end tests. The proofs (concurrency, faults, crashes,
 * fuzzing) are their own tier, `npm run test:proof` (vitest.proof.config.ts); CI runs both.
 */
export default defineConfig({
  test: {
    // Generous bounds: a test fails on a wrong answer, never because the machine is busy. The
    // slowest test does about 20 s of work on an idle 2-core machine and took 60 s with five
    // other suites on the same cores; 120 s leaves room beyond that.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Temporary files in memory where the machine allows (see the file); src/ transpiled once
    // for the tests that start the CLI or the server as a process.
    globalSetup: ["test/setup/scratch-tmpdir.ts", "test/setup/build-cli.ts"],
    // Child processes, not threads: the tests run git and servers and send signals.
    pool: "forks",
    // The larger file first on every run, not the longest one of the last run (see the file).
    sequence: { sequencer: SizeSequencer },
    // Vitest's default is one worker fewer than the cores: a single worker on 2 cores, which
    // then sits idle while its test waits on git or a socket. The files wait on subprocesses
    // and loopback HTTP much of their time, so three workers keep both cores busy.
    maxWorkers: 3,
    ...(process.env.FAILOVER_TEST_CPU_GC === "1" ? { execArgv: ["--expose-gc"] } : {}),
    projects: [
      {
        extends: true,
        test: {
          name: "tests",
          include: ["test/**/*.test.ts"],
          exclude: ["test/proof/**", ...OWN_PROCESS, ...NOCK, "node_modules/**"],
          // Git started by a small helper process, not by the (large) worker: see the file.
          // First, so that the diagnostics see what it routes.
          setupFiles: [...SPAWN_PROXY, ...DIAGNOSTICS],
          // A worker runs file after file in one process: the dependencies (probot, octokit,
          // graphql, ...) and the project's own modules load once per worker instead of once
          // per file, about a second each. So a module's top-level state is shared by the files
          // of a worker: tests build their own instances (composition root, fakes) and never
          // rely on module state; a file that must not share one belongs in OWN_PROCESS.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: "own-process",
          include: OWN_PROCESS,
          isolate: true,
          // Without the spawn proxy: the local adapter's own process handling (timeouts,
          // kills, counts) is tested on node's execFile, as it runs in production.
          setupFiles: DIAGNOSTICS,
        },
      },
      {
        extends: true,
        test: {
          name: "nock",
          include: NOCK,
          isolate: false,
          setupFiles: DIAGNOSTICS,
        },
      },
    ],
  },
});
