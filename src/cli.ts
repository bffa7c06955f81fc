#!/usr/bin/env node
import { runCli } from "./cli/main.js";

/** `failover-api`: the CLI (src/cli/main.ts) on the process's streams and environment. */
runCli(process.argv.slice(2), process).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`failover-api: ${String(error)}\n`);
    process.exit(1);
  },
);
