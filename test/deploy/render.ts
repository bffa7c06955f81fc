import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments, stringify } from "yaml";
import { runSync } from "../helpers/run-sync.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const DEPLOY_DIR = fileURLToPath(new URL("../../deploy/", import.meta.url));

/** Kubernetes objects as plain data: what `kubectl kustomize` printed, parsed. */
export type KubeObject = {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
} & Record<string, unknown>;

/** The kustomize of kubectl must be v5 or later: the one Flux's kustomize-controller embeds. */
const MIN_KUSTOMIZE_MAJOR = 5;

function kubectl(args: readonly string[]): string {
  try {
    return runSync("kubectl", args).toString("utf8");
  } catch (error) {
    const { code, status, stderr } = error as {
      code?: unknown;
      status?: unknown;
      stderr?: unknown;
    };
    if (code === "ENOENT") {
      throw new Error(
        "kubectl is not installed: test/deploy renders deploy/ with kubectl's built-in kustomize (.ci/run installs it when missing)",
      );
    }
    if (typeof status !== "number") {
      throw new Error(`kubectl ${args.join(" ")} failed to start: ${(error as Error).message}`);
    }
    throw new Error(`kubectl ${args.join(" ")} exited ${String(status)}:\n${String(stderr)}`);
  }
}

let kustomize: string | undefined;

/** The version of kustomize built into kubectl, e.g. "v5.5.0" (asked once per process). */
export function kustomizeVersion(): string {
  kustomize ??=
    (
      JSON.parse(kubectl(["version", "--client", "--output=json"])) as {
        kustomizeVersion?: string;
      }
    ).kustomizeVersion ?? "unknown";
  return kustomize;
}

/** Renders deploy/ with the real kustomize and parses every object. */
export function renderDeploy(dir = DEPLOY_DIR): KubeObject[] {
  const version = kustomizeVersion();
  const major = Number(/^v(\d+)\./.exec(version)?.[1] ?? Number.NaN);
  if (!(major >= MIN_KUSTOMIZE_MAJOR)) {
    throw new Error(
      `kubectl's kustomize is ${version}; deploy/ needs v${MIN_KUSTOMIZE_MAJOR} or later (as Flux uses): install a current kubectl`,
    );
  }
  return parseYamlObjects(kubectl(["kustomize", dir]));
}

export function parseYamlObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join("; "));
      return doc.toJS() as unknown;
    })
    .filter((value): value is KubeObject => value !== null && value !== undefined);
}

/** The parts of a Flux Kustomization's spec that change what kustomize builds. */
export interface FluxBuildSpec {
  readonly path: string;
  readonly images?: readonly {
    name: string;
    newName?: string;
    newTag?: string;
    digest?: string;
  }[];
  readonly patches?: readonly { patch: string; target?: Record<string, unknown> }[];
  readonly components?: readonly string[];
}

/**
 * Builds `spec.path` of `sourceRoot` the way Flux's kustomize-controller does: in a copy,
 * the Kustomization's `images` replace the entries of the same name in kustomization.yaml
 * (or are appended), its `patches` and `components` are appended; then kustomize builds it.
 * (fluxcd/pkg kustomize generator; `postBuild` substitution is not modelled: unused here.)
 */
export function renderAsFlux(spec: FluxBuildSpec, sourceRoot = ROOT): KubeObject[] {
  const copy = mkdtempSync(join(tmpdir(), "failover-api-flux-"));
  try {
    const dir = join(copy, spec.path);
    cpSync(join(sourceRoot, spec.path), dir, { recursive: true });
    const file = join(dir, "kustomization.yaml");
    const kustomization = parse(readFileSync(file, "utf8")) as {
      images?: { name: string }[];
      patches?: unknown[];
      components?: string[];
    };
    const images = [...(kustomization.images ?? [])];
    for (const image of spec.images ?? []) {
      const at = images.findIndex((i) => i.name === image.name);
      if (at >= 0) images[at] = { ...image };
      else images.push({ ...image });
    }
    kustomization.images = images;
    if (spec.patches !== undefined) {
      kustomization.patches = [...(kustomization.patches ?? []), ...spec.patches];
    }
    if (spec.components !== undefined) {
      kustomization.components = [...(kustomization.components ?? []), ...spec.components];
    }
    writeFileSync(file, stringify(kustomization));
    return renderDeploy(dir);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}
