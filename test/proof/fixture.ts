import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { composeRuntime } from "../../src/compose.js";
import { parseEnv } from "../../src/config/env.js";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { createHttpApp, listen } from "../../src/server.js";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.js";
import { demoRepoFiles } from "../helpers/files.js";
import {
  generatedServices as generated,
  generatedConfig,
  generatedManifest,
} from "../helpers/generated-services.js";
import { fileAt, git } from "../helpers/git.js";
import { TEST_BOUNDS } from "../helpers/test-bounds.js";

/** Shared by the proofs: a fake GitHub holding the demo repository plus N generated services. */

export const SONARR_PATH = "clusters/homelab/apps/media/sonarr/deployment.yaml";
export const RADARR_PATH = "clusters/homelab/apps/media/radarr/deployment.yaml";
const GENERATED_DIR = "clusters/homelab/apps/proof";

export interface ServiceFile {
  readonly name: string;
  readonly path: string;
  /** The manifest as committed initially: the primary state. */
  readonly primary: string;
  /**
   * The backup state, written here by plain string replacement (an oracle independent of the
   * code under test): the nodeSelector value and the claim name, nothing else.
   */
  readonly backup: string;
}

/** The manifest states of a service built like the seed's (node `role`, claim pvc-<name>). */
export function serviceFile(name: string, path: string, primary: string): ServiceFile {
  const backup = primary
    .replace("        role: primary\n", "        role: backup\n")
    .replace(`claimName: pvc-${name}\n`, `claimName: pvc-${name}-backup\n`);
  if (backup === primary) throw new Error(`fixture: ${path} has no primary placement`);
  return { name, path, primary, backup };
}

export { demoRepoFiles };

/** Services svc-01..svc-N from radarr's manifest, as bench/setup.ts generates them. */
export function generatedServices(count: number, template: string): ServiceFile[] {
  return generated(count, GENERATED_DIR).map(({ name, path }) =>
    serviceFile(name, path, generatedManifest(template, name)),
  );
}

export interface ProofRepo {
  readonly fake: FakeGitHub;
  readonly configPath: string;
  /** sonarr, radarr and the generated services. */
  readonly services: readonly ServiceFile[];
  /** host:port for GHE_HOST. */
  readonly gheHost: string;
  close(): Promise<void>;
}

export async function startProofRepo(generated = 0): Promise<ProofRepo> {
  const files = demoRepoFiles();
  const sonarr = files[SONARR_PATH];
  const radarr = files[RADARR_PATH];
  if (sonarr === undefined || radarr === undefined) throw new Error("fixture: demo files missing");
  const extra = generatedServices(generated, radarr);
  for (const s of extra) files[s.path] = s.primary;
  const root = await mkdtemp(join(tmpdir(), "failover-proof-"));
  const configPath = join(root, "services.yaml");
  await writeFile(configPath, generatedConfig(extra));
  const fake = await startFakeGitHub({ files, owner: "acme", repo: "gitops" });
  return {
    fake,
    configPath,
    services: [
      serviceFile("sonarr", SONARR_PATH, sonarr),
      serviceFile("radarr", RADARR_PATH, radarr),
      ...extra,
    ],
    gheHost: new URL(fake.webUrl).host,
    close: async () => {
      await fake.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface CommitEntry {
  readonly sha: string;
  readonly parents: readonly string[];
  readonly message: string;
}

/** Every commit on the branch, oldest first (first parent order is all there is: linear). */
export function history(dir: string, branch = "main"): CommitEntry[] {
  const out = git(dir, "log", "--reverse", "--format=%H%x1f%P%x1f%B%x1e", branch);
  return out
    .split("\x1e")
    .map((record) => record.replace(/^\n/, ""))
    .filter((record) => record !== "")
    .map((record) => {
      const [sha = "", parents = "", message = ""] = record.split("\x1f");
      return { sha, parents: parents.split(" ").filter((p) => p !== ""), message };
    });
}

/** Every commit has one parent (the root none), each the commit before it. */
export function isLinear(commits: readonly CommitEntry[]): boolean {
  return commits.every((c, i) =>
    i === 0
      ? c.parents.length === 0
      : c.parents.length === 1 && c.parents[0] === commits[i - 1]?.sha,
  );
}

export function failoverCommits(commits: readonly CommitEntry[], service: string): CommitEntry[] {
  return commits.filter((c) => c.message.includes(`\nFailover-Service: ${service}\n`));
}

/** "primary", "backup", or "corrupt" when the file is neither byte for byte. */
export function sideOf(
  dir: string,
  service: ServiceFile,
  ref = "main",
): "primary" | "backup" | "corrupt" {
  const text = fileAt(dir, ref, service.path);
  if (text === service.primary) return "primary";
  if (text === service.backup) return "backup";
  return "corrupt";
}

/** A JSON answer; the body is kept as text when it is not JSON (which the proofs flag). */
export async function callJson(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  // A fresh connection per call: the proofs kill servers and start new ones, possibly on a
  // port a pooled keep-alive socket still points at, and a POST on such a socket is not
  // retried (ECONNRESET) — a failure of the test's plumbing, not of the server.
  const headers = new Headers(init.headers);
  headers.set("connection", "close");
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    body = {};
  }
  return { status: res.status, body, text };
}

/** A tiny seeded PRNG (mulberry32) for reproducible random delays. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface InProcessServer {
  readonly fake: FakeGitHub;
  readonly url: string;
  /** Resolves when the work after the answers (audit, superseded PRs) has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The real HTTP server in this process, in GitHub mode with a token (no App installation:
 * @octokit/auth-app shares pending installation-token requests between instances in one
 * process by installation id, so several App-mode servers at once would talk across).
 */
export async function startTokenServer(env: Record<string, string> = {}): Promise<InProcessServer> {
  const fake = await startFakeGitHub({ files: demoRepoFiles(), owner: "acme", repo: "gitops" });
  try {
    const logger = pino({ level: "silent" });
    const runtime = await composeRuntime(
      parseEnv({
        GITOPS_REPOSITORY: "acme/gitops",
        GITHUB_TOKEN: "x",
        GHE_HOST: new URL(fake.webUrl).host,
        GHE_PROTOCOL: "http",
        FAILOVER_CONFIG: DEMO_CONFIG,
        ...TEST_BOUNDS,
        ...env,
      }),
      logger,
    );
    const server = await listen(createHttpApp(runtime.ctx, logger), 0, "127.0.0.1");
    return {
      fake,
      url: server.url,
      idle: () => runtime.background.idle(),
      close: async () => {
        await server.close();
        await runtime.background.idle();
        runtime.close();
        await fake.close();
      },
    };
  } catch (error) {
    await fake.close();
    throw error;
  }
}
