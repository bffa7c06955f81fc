import { createHmac } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { KubeReader } from "../../src/cluster/kube-reader.js";
import { composeRuntime, createOperations, type Runtime } from "../../src/compose.js";
import { parseEnv } from "../../src/config/env.js";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { createHttpApp, listen } from "../../src/server.js";
import { demoRepoCopy } from "../helpers/repo-template.js";

export const TOKEN = "wiring-token-0123456789abcdef";
export const FLUX_SECRET = "flux-events-secret-0123456789";

export interface WiringServer {
  readonly url: string;
  readonly runtime: Runtime;
  readonly repoDir: string;
  /** A request with the API token. */
  request(method: string, path: string, body?: unknown): Promise<Response>;
  /** A Flux event signed as a generic-hmac Provider signs it. */
  fluxEvent(event: unknown): Promise<Response>;
  close(): Promise<void>;
}

/**
 * What `serve` runs, composed by the composition root itself (composeRuntime with the
 * closed loop, its routes mounted by createHttpApp): the demo backend (a real local Git
 * repository), auth with one API token, and `kube` as the cluster the RPO gate reads
 * (undefined: no cluster access).
 */
export async function startWiringServer(
  services: (demoConfig: string) => string,
  options: { kube?: KubeReader | undefined } = {},
): Promise<WiringServer> {
  const root = await mkdtemp(join(tmpdir(), "failover-api-wiring-"));
  const configPath = join(root, "services.yaml");
  await writeFile(configPath, services(await readFile(DEMO_CONFIG, "utf8")));
  const logger = pino({ level: "silent" });
  await demoRepoCopy(join(root, "demo"));
  const env = parseEnv({
    DEMO_REPO: join(root, "demo"),
    FAILOVER_CONFIG: configPath,
    FAILOVER_CONFIG_WATCH: "false",
    FAILOVER_API_TOKENS: `tester:${TOKEN}`,
    FLUX_EVENTS_SECRET: FLUX_SECRET,
    FAILOVER_RATE_LIMIT: "0",
  });
  const runtime = await composeRuntime(env, logger, { kube: options.kube });
  const automation = runtime.automation;
  if (automation === undefined) throw new Error("the composition root built no closed loop");
  automation.start();
  const operations = createOperations(env, runtime, logger);
  const server = await listen(
    createHttpApp(runtime.ctx, logger, { operations, automation }),
    0,
    "127.0.0.1",
  );
  const request = (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return {
    url: server.url,
    runtime,
    repoDir: runtime.repoLocation,
    request,
    fluxEvent: (event) => {
      const body = JSON.stringify(event);
      const signature = `sha256=${createHmac("sha256", FLUX_SECRET).update(body).digest("hex")}`;
      return fetch(`${server.url}/api/flux/events`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-signature": signature },
        body,
      });
    },
    close: async () => {
      await server.close();
      await runtime.background.idle();
      await automation.close();
      operations.close();
      runtime.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
