import { createHmac, randomUUID } from "node:crypto";
import { pino } from "pino";
import { composeRuntime, type Runtime } from "../../src/compose.js";
import { parseEnv } from "../../src/config/env.js";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { createHttpApp, listen, type RunningServer } from "../../src/server.js";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.js";
import { appSettings } from "../fake-github/routes/app.js";
import { issuesState } from "../fake-github/routes/issues.js";
import { demoRepoFiles } from "./files.js";
import { TEST_BOUNDS } from "./test-bounds.js";
import { testKeyPair } from "./test-keys.js";

export const WEBHOOK_SECRET = "it's a secret to everybody";
const keys = testKeyPair();

export const demoFiles = demoRepoFiles;

export interface AppServer {
  readonly fake: FakeGitHub;
  readonly url: string;
  readonly runtime: Runtime;
  /** Signs and posts a webhook to the running server, as GitHub does. */
  sendWebhook(
    event: string,
    payload: unknown,
    options?: { secret?: string; deliveryId?: string },
  ): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The real server in GitHub App mode (APP_ID + private key + webhook secret) against the
 * fake GitHub, reached the way GitHub Enterprise is (GHE_HOST, GHE_PROTOCOL=http).
 */
export async function startAppServer(
  options: {
    env?: Record<string, string>;
    roles?: Record<string, string>;
    /** The GitOps repository's files (default: the demo repository). */
    files?: Record<string, string>;
    /** Another app server's fake GitHub: a second replica of the app (close leaves it up). */
    fake?: FakeGitHub;
  } = {},
): Promise<AppServer> {
  const shared = options.fake;
  const fake =
    shared ??
    (await startFakeGitHub({
      files: options.files ?? demoFiles(),
      owner: "acme",
      repo: "gitops",
    }));
  const settings = appSettings({ fake: fake.context } as Parameters<typeof appSettings>[0]);
  settings.publicKeyPem = keys.publicKey;
  const roles = issuesState({ fake: fake.context }).roles;
  for (const [login, role] of Object.entries(options.roles ?? {}))
    roles.set(login.toLowerCase(), role);
  const logger = pino({ level: "silent" });
  const runtime = await composeRuntime(
    parseEnv({
      GITOPS_REPOSITORY: "acme/gitops",
      APP_ID: String(settings.appId),
      PRIVATE_KEY: keys.privateKey,
      WEBHOOK_SECRET,
      GHE_HOST: new URL(fake.webUrl).host,
      GHE_PROTOCOL: "http",
      FAILOVER_CONFIG: DEMO_CONFIG,
      ...TEST_BOUNDS,
      ...options.env,
    }),
    logger,
  );
  const server: RunningServer = await listen(
    createHttpApp(runtime.ctx, logger, { webhooks: runtime.webhooks }),
    0,
    "127.0.0.1",
  );
  return {
    fake,
    url: server.url,
    runtime,
    sendWebhook: (event, payload, opts = {}) => {
      const body = JSON.stringify(payload);
      const signature = createHmac("sha256", opts.secret ?? WEBHOOK_SECRET)
        .update(body)
        .digest("hex");
      return fetch(`${server.url}/api/github/webhooks`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": event,
          "x-github-delivery": opts.deliveryId ?? randomUUID(),
          "x-hub-signature-256": `sha256=${signature}`,
          "user-agent": "GitHub-Hookshot/fake",
        },
        body,
      });
    },
    close: async () => {
      await server.close();
      if (shared === undefined) await fake.close();
    },
  };
}
