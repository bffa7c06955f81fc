import { defineConfig } from "vitest/config";

/**
 * `npm test`: unit, contract and end-to-end tests. The proofs (concurrency, faults, crashes,
 * fuzzing) are their own tier, `npm run test:proof` (vitest.proof.config.ts); CI runs both.
 */
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/proof/**", "node_modules/**"],
    // Generous bounds: a test fails on a wrong answer, never because the machine is busy.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Git subprocesses and HTTP servers per file: two cores are the limit here.
    pool: "forks",
  },
});
