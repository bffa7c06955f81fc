import { existsSync } from "node:fs";
import type { Logger } from "pino";
import { composeRuntime, createOperations, type Runtime } from "../compose.js";
import { type Env, parseEnv } from "../config/env.js";
import { FailoverError } from "../domain/errors.js";
import { runCommand } from "../failover/run-command.js";
import { createLogger } from "../logger.js";
import { Metrics } from "../observability/metrics.js";
import { gracefulShutdown } from "../observability/shutdown.js";
import { cliJson, cliText } from "../presenters/cli-text.js";
import { createHttpApp, listen } from "../server.js";
import { parseCli } from "./program.js";

/** Where the CLI writes; the process's streams, or a test's. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** The environment settings are read from (process.env; `--dotenv` loads into it). */
  readonly env: NodeJS.ProcessEnv;
}

/**
 * The CLI: argv -> request (program.ts) -> runCommand, or the server -> text or JSON
 * (presenters/cli-text.ts). Returns the exit code: 0, 1 for a failed command, 2 for bad
 * input; it never exits the process itself, so tests run it in-process.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await main(argv, io);
  } catch (error) {
    if (error instanceof FailoverError) {
      const hint = error.message.includes("there are no GitHub credentials")
        ? "\nTo register a GitHub App and write its credentials to .env: npm start -- --setup (docs/github-app.md)"
        : "";
      io.stderr.write(`failover-api: ${error.code}: ${error.message}${hint}\n`);
      return error.code === "invalid_input" ? 2 : 1;
    }
    io.stderr.write(
      `failover-api: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}

async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const { request, dotenv } = parseCli(argv, {
    requester: `cli ${io.env.USER ?? "unknown"}`,
    requestId: crypto.randomUUID(),
  });
  if (request.kind === "print") {
    io.stdout.write(request.text);
    return 0;
  }
  if (request.kind === "usage") {
    io.stderr.write(`failover-api: ${request.message}\n(failover-api --help for usage)\n`);
    return 2;
  }
  // Settings already in the environment win over the file's (process.loadEnvFile).
  if (dotenv !== undefined && existsSync(dotenv)) process.loadEnvFile(dotenv);
  const { env: vars } = io;
  if (request.kind === "serve" && request.setup !== undefined) {
    const { runSetup } = await import("../setup/run-setup.js");
    return runSetup({
      envFile: dotenv ?? ".env",
      webhookUrl: request.setup.webhookUrl,
      org: request.setup.org,
      env: vars,
      logger: createLogger(vars.LOG_LEVEL === "silent" ? "silent" : "info", 2),
    });
  }
  const env = parseEnv(vars);
  if (request.kind === "serve") {
    const logger = createLogger(env.LOG_LEVEL, 1);
    return serve(await composeRuntime(env, logger, { metrics: new Metrics() }), env, logger, io);
  }
  const logger = createLogger(vars.LOG_LEVEL === "silent" ? "silent" : "warn", 2);
  const runtime = await composeRuntime(env, logger);
  try {
    const result = await runCommand(runtime.ctx, request.command);
    io.stdout.write(
      request.json ? `${JSON.stringify(cliJson(result), null, 2)}\n` : `${cliText(result)}\n`,
    );
    return 0;
  } finally {
    // The after-effects (audit, Flux ping) finish before the process exits.
    await runtime.background.idle();
    await runtime.close();
  }
}

async function serve(runtime: Runtime, env: Env, logger: Logger, io: CliIo) {
  const operations = createOperations(env, runtime, logger);
  if (env.FAILOVER_CONFIG_WATCH) runtime.configStore.watch();
  operations.auth.watch();
  operations.githubCheck?.start();
  runtime.automation?.start();
  // A pod killed between a commit and its Deployment loses nothing: rebuilt from Git.
  runtime.reconcileAudit?.();
  if (!operations.auth.enabled && runtime.backend !== "demo") {
    logger.warn(
      "no API token configured (FAILOVER_API_TOKENS, FAILOVER_API_TOKENS_FILE): anyone who reaches the HTTP API can fail services over",
    );
  }
  const app = createHttpApp(runtime.ctx, logger, {
    webhooks: runtime.webhooks,
    operations,
    automation: runtime.automation,
  });
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
    io.stdout.write(demoBanner(server.url, runtime));
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
    close: async () => {
      operations.close();
      await runtime.close();
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
