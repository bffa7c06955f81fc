import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Git subprocesses and HTTP servers per file: two cores are the limit here.
    pool: "forks",
  },
});
