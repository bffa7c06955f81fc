import { createHmac, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { type Logger, pino } from "pino";
import { composeRuntime, createOperations, type Runtime } from "../../src/compose.js";
import { parseEnv } from "../../src/config/env.js";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { REDACT_PATHS } from "../../src/logger.js";
import { Metrics } from "../../src/observability/metrics.js";
import type { Operations } from "../../src/server.js";
import { createHttpApp, listen, type RunningServer } from "../../src/server.js";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.js";
import { appSettings } from "../fake-github/routes/app.js";
import { issuesState } from "../fake-github/routes/issues.js";
import { demoFiles } from "../helpers/github-app-server.js";
import { demoRepoCopy, isDemoMode } from "../helpers/repo-template.js";
import { testKeyPair } from "../helpers/test-keys.js";

/** Every line the server logged, as text, for assertions on content and redaction. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger: Logger;

  constructor() {
    const lines = this.lines;
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(
          ...chunk
            .toString("utf8")
            .split("\n")
            .filter((l) => l !== ""),
        );
        done();
      },
    });
    // The same options as src/logger.ts, into memory.
    this.logger = pino(
      {
        level: "debug",
        redact: { paths: REDACT_PATHS, censor: "[redacted]" },
        base: { app: "failover-api" },
      },
      stream,
    );
  }

  get text(): string {
    return this.lines.join("\n");
  }

  entries(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

export interface OpsServer {
  readonly url: string;
  readonly runtime: Runtime;
  readonly operations: Operations;
  readonly metrics: Metrics;
  readonly logs: LogCapture;
  readonly repoDir: string;
  /**
   * `fetch` against the server, with a bearer token when given; resolves once the answer
   * came AND the work it left in the background (listeners: Flux ping, metrics, log line)
   * finished, so what a test checks next is settled.
   */
  call(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
  metricsText(): Promise<string>;
  close(): Promise<void>;
}

/**
 * The real composition and the real HTTP server with the operational parts on, as
 * `cli.ts serve` builds them: config watching, tokens file watching, metrics, readiness.
 */
export async function startOpsServer(
  env: Record<string, string> = {},
  options: { root?: string; fake?: FakeGitHub } = {},
): Promise<OpsServer> {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), "failover-api-ops-")));
  try {
    return await startOpsServerIn(root, env, options);
  } catch (error) {
    // A start that is meant to fail (a refused config, say) leaves no directory behind.
    if (options.root === undefined) await rm(root, { recursive: true, force: true });
    throw error;
  }
}

async function startOpsServerIn(
  root: string,
  env: Record<string, string>,
  options: { root?: string },
): Promise<OpsServer> {
  const logs = new LogCapture();
  const metrics = new Metrics();
  if (isDemoMode(env)) await demoRepoCopy(join(root, "demo"));
  const parsed = parseEnv({ DEMO_REPO: join(root, "demo"), ...env });
  const runtime = await composeRuntime(parsed, logs.logger, { metrics });
  const operations = createOperations(parsed, runtime, logs.logger);
  if (parsed.FAILOVER_CONFIG_WATCH) runtime.configStore.watch();
  operations.auth.watch();
  const server: RunningServer = await listen(
    createHttpApp(runtime.ctx, logs.logger, { webhooks: runtime.webhooks, operations }),
    0,
    "127.0.0.1",
  );
  return {
    url: server.url,
    runtime,
    operations,
    metrics,
    logs,
    repoDir: runtime.repoLocation,
    call: async (path, init = {}) => {
      const { token, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token !== undefined) headers.set("authorization", `Bearer ${token}`);
      const res = await fetch(`${server.url}${path}`, { ...rest, headers });
      await runtime.background.idle();
      return res;
    },
    metricsText: async () => (await fetch(`${server.url}/metrics`)).text(),
    close: async () => {
      await server.close();
      operations.close();
      runtime.close();
      if (options.root === undefined) await rm(root, { recursive: true, force: true });
    },
  };
}

const keys = testKeyPair();
export const OPS_WEBHOOK_SECRET = "ops webhook secret";

export interface OpsAppServer extends OpsServer {
  readonly fake: FakeGitHub;
  /** Signs and posts a webhook as GitHub does; returns the response and the delivery id. */
  sendWebhook(event: string, payload: unknown): Promise<{ res: Response; delivery: string }>;
}

/** The same, in GitHub App mode against the fake GitHub (as test/helpers/github-app-server.ts). */
export async function startOpsAppServer(
  env: Record<string, string> = {},
  roles: Record<string, string> = {},
): Promise<OpsAppServer> {
  const fake = await startFakeGitHub({ files: demoFiles(), owner: "acme", repo: "gitops" });
  const settings = appSettings({ fake: fake.context } as Parameters<typeof appSettings>[0]);
  settings.publicKeyPem = keys.publicKey;
  const known = issuesState({ fake: fake.context }).roles;
  for (const [login, role] of Object.entries(roles)) known.set(login.toLowerCase(), role);
  const server = await startOpsServer({
    GITOPS_REPOSITORY: "acme/gitops",
    APP_ID: String(settings.appId),
    PRIVATE_KEY: keys.privateKey,
    WEBHOOK_SECRET: OPS_WEBHOOK_SECRET,
    GHE_HOST: new URL(fake.webUrl).host,
    GHE_PROTOCOL: "http",
    FAILOVER_CONFIG: DEMO_CONFIG,
    GITHUB_WRITE_INTERVAL_MS: "0",
    ...env,
  });
  return {
    ...server,
    fake,
    sendWebhook: async (event, payload) => {
      const body = JSON.stringify(payload);
      const signature = createHmac("sha256", OPS_WEBHOOK_SECRET).update(body).digest("hex");
      const delivery = randomUUID();
      const res = await fetch(`${server.url}/api/github/webhooks`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": event,
          "x-github-delivery": delivery,
          "x-hub-signature-256": `sha256=${signature}`,
          "user-agent": "GitHub-Hookshot/fake",
        },
        body,
      });
      return { res, delivery };
    },
    close: async () => {
      await server.close();
      await fake.close();
    },
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
