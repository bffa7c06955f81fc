import { defineConfig } from "vitest/config";
import { PROPERTY_TEST_FILES } from "./test/helpers/fuzz-runs.js";

/**
 * `npm run test:proof`: the proofs of docs/proofs.md. They spawn servers and kill them, so
 * they run one file at a time, with bounds taken from their own measured work (see each
 * file); a slow machine makes them slower, not red.
 *
 * The property tests of `npm test` run here as well, on their full input counts
 * (FAILOVER_TEST_FUZZ=full; `npm test` tries a tenth of them, test/helpers/fuzz-runs.ts).
 */
export default defineConfig({
  test: {
    include: ["test/proof/**/*.test.ts", ...PROPERTY_TEST_FILES],
    env: { FAILOVER_TEST_FUZZ: "full" },
    testTimeout: 900_000,
    hookTimeout: 300_000,
    pool: "forks",
    // Temporary files in memory where the machine allows (test/setup/scratch-tmpdir.ts); src/
    // transpiled once: the proofs start the server as a process hundreds of times.
    globalSetup: ["test/setup/scratch-tmpdir.ts", "test/setup/build-cli.ts"],
    fileParallelism: false,
  },
});
