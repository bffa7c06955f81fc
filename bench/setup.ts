import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { composeRuntime, type Runtime } from "../src/compose.js";
import { parseEnv } from "../src/config/env.js";
import { createHttpApp, listen, type RunningServer } from "../src/server.js";
import { DEFAULT_ROUTES, type FakeGitHub, startFakeGitHub } from "../test/fake-github/index.js";
import { contentRoutes } from "../test/fake-github/routes/contents.js";
import { demoRepoFiles } from "../test/helpers/files.js";
import {
  type GeneratedService,
  generatedServices as generated,
  generatedConfig,
  generatedManifest,
  TEMPLATE_PATH,
} from "../test/helpers/generated-services.js";

export type { GeneratedService };

const GENERATED_DIR = "clusters/homelab/apps/bench";

export interface BenchEnvironment {
  readonly fake: FakeGitHub;
  readonly runtime: Runtime;
  /** The real HTTP API (createHttpApp + listen) in GitHub mode against the fake. */
  readonly apiUrl: string;
  /** Every configured service: the demo's two plus the generated ones. */
  readonly services: readonly string[];
  readonly generated: readonly GeneratedService[];
  /** Node label -> the services whose primary it is (node-wide rows), e.g. "bench-n5" -> 5. */
  readonly nodes: ReadonlyMap<string, readonly string[]>;
  close(): Promise<void>;
}

/**
 * Services of their own node, `bench-n<N>` holding N of them: the manifest's nodeSelector
 * says `role: bench-n<N>`, so a node-wide failover of that node moves exactly N services.
 */
function nodeGroups(
  sizes: readonly number[],
  template: string,
): { files: Record<string, string>; config: string; nodes: Map<string, string[]> } {
  const files: Record<string, string> = {};
  const entries: string[] = [];
  const nodes = new Map<string, string[]>();
  for (const size of sizes) {
    const node = `bench-n${size}`;
    const names: string[] = [];
    for (let i = 1; i <= size; i++) {
      const name = `${node}-${String(i).padStart(2, "0")}`;
      const path = `${GENERATED_DIR}/${node}/${name}/deployment.yaml`;
      files[path] = generatedManifest(template, name).replace("role: primary", `role: ${node}`);
      entries.push(
        [
          `  ${name}:`,
          "    namespace: media",
          `    deployment: ${name}`,
          `    volume_name: ${name}-data`,
          `    primary_pvc: pvc-${name}`,
          `    backup_pvc: pvc-${name}-backup`,
          `    primary_node_label: ${node}`,
          "    backup_node_label: backup",
          `    path: ${path}`,
        ].join("\n"),
      );
      names.push(name);
    }
    nodes.set(node, names);
  }
  return { files, config: entries.length === 0 ? "" : `${entries.join("\n")}\n`, nodes };
}

export { demoRepoFiles };

export function generatedServices(count: number): GeneratedService[] {
  return generated(count, GENERATED_DIR);
}

export { generatedConfig, generatedManifest };

export async function startBenchEnvironment(options: {
  readonly services: number;
  readonly latencyMs: number;
  /** GITHUB_WRITE_INTERVAL_MS for the composed server; the production default when absent. */
  readonly writeIntervalMs?: number | undefined;
  /** Node-wide rows: one node per size, holding that many services. */
  readonly nodeSizes?: readonly number[];
}): Promise<BenchEnvironment> {
  const files = demoRepoFiles();
  const template = files[TEMPLATE_PATH];
  if (template === undefined) throw new Error(`bench: ${TEMPLATE_PATH} missing from examples`);
  const generated = generatedServices(options.services);
  for (const s of generated) files[s.path] = generatedManifest(template, s.name);
  const groups = nodeGroups(options.nodeSizes ?? [], template);
  Object.assign(files, groups.files);

  const root = await mkdtemp(join(tmpdir(), "failover-bench-"));
  const cleanups: (() => Promise<void>)[] = [() => rm(root, { recursive: true, force: true })];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const configPath = join(root, "services.yaml");
    await writeFile(configPath, `${generatedConfig(generated).trimEnd()}\n${groups.config}`);
    // The Contents API routes are in DEFAULT_ROUTES; added here only if they are not (yet).
    const served = new Set(DEFAULT_ROUTES.map((r) => `${r.method} ${r.template}`));
    const extra = contentRoutes.filter((r) => !served.has(`${r.method} ${r.template}`));
    const fake = await startFakeGitHub({ files, owner: "acme", repo: "gitops", routes: extra });
    cleanups.push(() => fake.close());

    const logger = pino({ level: "silent" });
    const runtime = await composeRuntime(
      parseEnv({
        GITOPS_REPOSITORY: "acme/gitops",
        GITHUB_TOKEN: "x",
        GHE_HOST: new URL(fake.webUrl).host,
        GHE_PROTOCOL: "http",
        FAILOVER_CONFIG: configPath,
        LOG_LEVEL: "silent",
        ...(options.writeIntervalMs === undefined
          ? {}
          : { GITHUB_WRITE_INTERVAL_MS: String(options.writeIntervalMs) }),
      }),
      logger,
    );
    const server: RunningServer = await listen(createHttpApp(runtime.ctx, logger), 0, "127.0.0.1");
    cleanups.push(() => server.close());
    fake.latencyMs = options.latencyMs;
    return {
      fake,
      runtime,
      apiUrl: server.url,
      services: [...runtime.ctx.config().services.keys()],
      generated,
      nodes: groups.nodes,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
