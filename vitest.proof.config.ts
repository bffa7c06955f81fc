import { defineConfig } from "vitest/config";

/**
 * `npm run test:proof`: the proofs of docs/proofs.md. They spawn servers and kill them, so
 * they run one file at a time, with bounds taken from their own measured work (see each
 * file); a slow machine makes them slower, not red.
 */
export default defineConfig({
  test: {
    include: ["test/proof/**/*.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    pool: "forks",
    // src/ transpiled once: the proofs start the server as a process hundreds of times.
    globalSetup: ["test/setup/build-cli.ts"],
    fileParallelism: false,
  },
});
