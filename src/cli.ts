#!/usr/bin/env node
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Logger } from "pino";
import { composeRuntime, type Runtime } from "./compose.js";
import { type Env, parseEnv } from "./config/env.js";
import { FailoverError } from "./domain/errors.js";
import { ACTIONS, type Action } from "./domain/service.js";
import { executeFailover, executeNodeFailover } from "./failover/execute-failover.js";
import { getHistory } from "./failover/history.js";
import { listServices } from "./failover/list.js";
import { setLock } from "./failover/locks.js";
import { getStatus } from "./failover/status.js";
import { renderFailoverResult, renderLockResult, renderNodeResult } from "./http/render-result.js";
import { createLogger } from "./logger.js";
import { Metrics } from "./observability/metrics.js";
import { createOperations } from "./observability/operations.js";
import { gracefulShutdown } from "./observability/shutdown.js";
import { createHttpApp, listen } from "./server.js";
import { runSetup } from "./setup/run-setup.js";

const USAGE = `usage: failover-api <command> [options]

commands:
  serve                        start the HTTP API (default command)
  list                         list configured services
  status <service>             show where a service runs now
  promote <service> [--dry-run] fail over to the backup node and claim
  demote <service> [--dry-run]  fail back to the primary node and claim
  node <node> promote|demote [--dry-run]
                               every service whose primary is <node>, in one commit
  lock <service> [reason...]   refuse failovers of the service until unlocked
  unlock <service>             allow them again
  history <service>            past failovers of the service, from Git

options:
  --dry-run   show the plan and diff, write nothing
  --json      print JSON instead of text
  --dotenv <path>  read settings from this file first, when it exists (npm start: .env)
  -h, --help  show this help

setup (serve --setup): register the GitHub App from app.yml (GitHub's manifest flow) and
write its credentials to --dotenv (default .env); docs/github-app.md
  --webhook-url <url>  the public https://<host>/api/github/webhooks (else inactive)
  --org <org>          register it for an organisation

environment: see .env.example (FAILOVER_CONFIG, DEMO_REPO, GITOPS_REPO_PATH, PORT, ...)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "dry-run": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      dotenv: { type: "string" },
      setup: { type: "boolean", default: false },
      "webhook-url": { type: "string" },
      org: { type: "string" },
    },
  });
  const [command = "serve", service, ...extra] = positionals;
  if (values.help || command === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const takesMore = command === "node" || command === "lock";
  if (extra.length > (command === "node" ? 1 : 0) && !takesMore) {
    return usageError(`unexpected arguments: ${extra.join(" ")}`);
  }
  const envFile = values.dotenv;
  // Settings already in the environment win over the file's (process.loadEnvFile).
  if (envFile !== undefined && existsSync(envFile)) process.loadEnvFile(envFile);
  if (values.setup || command === "setup") {
    return runSetup({
      envFile: envFile ?? ".env",
      webhookUrl: values["webhook-url"],
      org: values.org,
      env: process.env,
      logger: createLogger(process.env.LOG_LEVEL === "silent" ? "silent" : "info", 2),
    });
  }
  const env = parseEnv(process.env);
  const serving = command === "serve";
  const logger = createLogger(serving ? env.LOG_LEVEL : "warn", serving ? 1 : 2);
  const runtime = await composeRuntime(env, logger, serving ? { metrics: new Metrics() } : {});
  const print = (value: unknown, text: string) =>
    process.stdout.write(values.json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);

  if (serving) return serve(runtime, env, logger);
  if (command === "list") {
    const services = listServices(runtime.ctx);
    print(
      { services },
      services
        .map(
          (s) =>
            `${s.name}\t${s.namespace}/${s.deployment ?? s.helmrelease}\t${s.primary_pvc} <-> ${s.backup_pvc}`,
        )
        .join("\n"),
    );
    return 0;
  }
  if (service === undefined) return usageError(`${command} needs a service name`);
  if (command === "status") {
    const status = await getStatus(runtime.ctx, service);
    print(
      status,
      `${status.service}: ${status.state} (node ${status.observed.nodes.join(",")}, claim ${status.observed.claims.join(",")}) in ${status.paths.join(", ")}@${status.head.slice(0, 12)}${status.locked === undefined ? "" : ` (locked by ${status.locked.by})`}`,
    );
    return 0;
  }
  const requester = `cli ${process.env.USER ?? "unknown"}`;
  if (command === "node") {
    const [action, ...rest] = extra;
    if ((action !== "promote" && action !== "demote") || rest.length > 0) {
      return usageError("node takes: node <node> promote|demote [--dry-run]");
    }
    const result = await executeNodeFailover(runtime.ctx, {
      node: service,
      action,
      dryRun: values["dry-run"],
      trigger: "cli",
      requester,
    });
    const body = renderNodeResult(result);
    const lines = result.services.flatMap((s) =>
      "plan" in s
        ? [
            `  ${s.service}: ${s.result} (${s.plan.from} -> ${s.plan.to})`,
            ...s.plan.warnings.map((w) => `    warning: ${w}`),
          ]
        : [`  ${s.service}: ${s.result}: ${s.message}`],
    );
    print(body, [String(body.message), ...lines, result.diff].filter((l) => l !== "").join("\n"));
    return 0;
  }
  if (command === "lock" || command === "unlock") {
    const result = await setLock(runtime.ctx, {
      service,
      lock: command === "lock",
      reason: extra.join(" "),
      requester,
    });
    const body = renderLockResult(service, result);
    print(body, String(body.message));
    return 0;
  }
  if (command === "history") {
    const history = await getHistory(runtime.ctx, service, 20);
    print(
      { service, history },
      history
        .map(
          (h) =>
            `${h.date}\t${h.action}\t${h.from ?? "?"} -> ${h.to ?? "?"}\t${h.requester ?? "?"}\t${h.trigger ?? "?"}\t${h.sha.slice(0, 12)}`,
        )
        .join("\n") || `no failovers of ${service} in its manifests' history`,
    );
    return 0;
  }
  if (!(ACTIONS as readonly string[]).includes(command))
    return usageError(`unknown command "${command}"`);
  const { result } = await executeFailover(runtime.ctx, {
    service,
    action: command as Action,
    dryRun: values["dry-run"],
    trigger: "cli",
    requester,
  });
  const body = renderFailoverResult(result);
  const diff = typeof body.diff === "string" && body.diff !== "" ? `\n${body.diff}` : "";
  const warnings = result.plan.warnings.map((w) => `\nwarning: ${w}`).join("");
  print(body, `${String(body.message)}${warnings}${diff}`);
  return 0;
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

function usageError(message: string): number {
  process.stderr.write(`failover-api: ${message}\n\n${USAGE}\n`);
  return 2;
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
    if (
      error instanceof TypeError &&
      "code" in error &&
      String(error.code).startsWith("ERR_PARSE_ARGS")
    ) {
      process.exit(usageError(error.message));
    }
    process.stderr.write(
      `failover-api: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
