#!/usr/bin/env node
import { existsSync } from "node:fs";
import type { Logger } from "pino";
import { parseCli } from "./cli/program.js";
import { composeRuntime, createOperations, type Runtime } from "./compose.js";
import { type Env, parseEnv } from "./config/env.js";
import { FailoverError } from "./domain/errors.js";
import { runCommand } from "./failover/run-command.js";
import { createLogger } from "./logger.js";
import { Metrics } from "./observability/metrics.js";
import { gracefulShutdown } from "./observability/shutdown.js";
import { cliJson, cliText } from "./presenters/cli-text.js";
import { createHttpApp, listen } from "./server.js";

/** The CLI: argv -> request (cli/program.ts) -> runCommand or the server -> stdout. */
async function main(argv: string[]): Promise<number> {
  const { request, dotenv } = parseCli(argv, {
    requester: `cli ${process.env.USER ?? "unknown"}`,
    requestId: crypto.randomUUID(),
  });
  if (request.kind === "print") {
    process.stdout.write(request.text);
    return 0;
  }
  if (request.kind === "usage") {
    process.stderr.write(`failover-api: ${request.message}\n(failover-api --help for usage)\n`);
    return 2;
  }
  // Settings already in the environment win over the file's (process.loadEnvFile).
  if (dotenv !== undefined && existsSync(dotenv)) process.loadEnvFile(dotenv);
  if (request.kind === "serve" && request.setup !== undefined) {
    const { runSetup } = await import("./setup/run-setup.js");
    return runSetup({
      envFile: dotenv ?? ".env",
      webhookUrl: request.setup.webhookUrl,
      org: request.setup.org,
      env: process.env,
      logger: createLogger(process.env.LOG_LEVEL === "silent" ? "silent" : "info", 2),
    });
  }
  const env = parseEnv(process.env);
  if (request.kind === "serve") {
    const logger = createLogger(env.LOG_LEVEL, 1);
    return serve(await composeRuntime(env, logger, { metrics: new Metrics() }), env, logger);
  }
  const logger = createLogger(process.env.LOG_LEVEL === "silent" ? "silent" : "warn", 2);
  const runtime = await composeRuntime(env, logger);
  try {
    const result = await runCommand(runtime.ctx, request.command);
    process.stdout.write(
      request.json ? `${JSON.stringify(cliJson(result), null, 2)}\n` : `${cliText(result)}\n`,
    );
    return 0;
  } finally {
    // The after-effects (audit, Flux ping) finish before the process exits.
    await runtime.background.idle();
    runtime.close();
  }
}

async function serve(runtime: Runtime, env: Env, logger: Logger) {
  const operations = createOperations(env, runtime, logger);
  if (env.FAILOVER_CONFIG_WATCH) runtime.configStore.watch();
  operations.auth.watch();
  operations.githubCheck?.start();
  if (!operations.auth.enabled && runtime.backend !== "demo") {
    logger.warn(
      "no API token configured (FAILOVER_API_TOKENS, FAILOVER_API_TOKENS_FILE): anyone who reaches the HTTP API can fail services over",
    );
  }
  const app = createHttpApp(runtime.ctx, logger, { webhooks: runtime.webhooks, operations });
  // The demo binds to loopback: its API writes without authentication.
  const server = await listen(
    app,
    env.PORT,
    env.HOST ?? (runtime.backend === "demo" ? "127.0.0.1" : "0.0.0.0"),
  );
  logger.info(
    {
      url: server.url,
      backend: runtime.backend,
      repo: runtime.repoLocation,
      config: runtime.configPath,
      auth: operations.auth.enabled ? `${operations.auth.tokenCount} token(s)` : "off",
      rateLimitPerMinute: env.FAILOVER_RATE_LIMIT,
      readRateLimitPerMinute: env.FAILOVER_READ_RATE_LIMIT,
      configWatch: env.FAILOVER_CONFIG_WATCH,
      flux: env.FLUX_RECEIVER_URL === undefined ? "off" : "receiver ping",
    },
    "failover-api listening",
  );
  if (runtime.backend === "demo") {
    process.stdout.write(demoBanner(server.url, runtime));
  }
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  logger.info({ signal }, "signal received");
  await gracefulShutdown({
    server: server.server,
    readiness: operations.readiness,
    inflight: operations.inflight,
    background: runtime.background,
    timeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    delayMs: env.SHUTDOWN_DELAY_MS,
    logger,
    close: () => {
      operations.close();
      runtime.close();
    },
  });
  return 0;
}

function demoBanner(url: string, runtime: Runtime): string {
  return `
failover-api demo: no GitHub settings, so failovers commit to a local Git repository
  repository: ${runtime.repoLocation}   (watch it: git -C ${runtime.repoLocation} log -p)
  services:   ${runtime.configPath}

try:
  curl ${url}/api/services
  curl ${url}/api/failover/sonarr/status
  curl '${url}/api/failover/sonarr/promote?dry-run=true'
  curl -X POST ${url}/api/failover/sonarr/promote
  curl -X POST ${url}/api/failover/sonarr/demote
  curl ${url}/api/health

`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof FailoverError) {
      const hint = error.message.includes("there are no GitHub credentials")
        ? "\nTo register a GitHub App and write its credentials to .env: npm start -- --setup (docs/github-app.md)"
        : "";
      process.stderr.write(`failover-api: ${error.code}: ${error.message}${hint}\n`);
      process.exit(error.code === "invalid_input" ? 2 : 1);
    }
    process.stderr.write(
      `failover-api: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
