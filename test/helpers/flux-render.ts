import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { type KubeObject, parseYamlObjects, renderDeploy } from "../deploy/render.js";
import { runSync } from "./run-sync.js";

/**
 * What Flux would apply for one Flux Kustomization of a repository at a commit, built
 * independently of failover-api's own code: the tree is exported with `git archive`, the
 * Kustomization's `spec.components` are appended to the kustomization.yaml of its
 * `spec.path` (as kustomize-controller does), the real kustomize builds it, and post-build
 * substitution runs with the Kustomization's `spec.postBuild.substitute`.
 */
export function renderFluxKustomization(
  gitDir: string,
  rev: string,
  ksFile: string,
  ksName: string,
): KubeObject[] {
  const tree = runSync("git", ["-C", gitDir, "rev-parse", "--verify", `${rev}^{tree}`])
    .toString("utf8")
    .trim();
  const key = `${tree} ${ksFile} ${ksName}`;
  const store = globalThis as { [RENDERED]?: Map<string, KubeObject[]> };
  store[RENDERED] ??= new Map();
  const renderedTrees = store[RENDERED];
  let objects = renderedTrees.get(key);
  if (objects === undefined) {
    objects = renderTree(gitDir, tree, ksFile, ksName);
    renderedTrees.set(key, objects);
  }
  return structuredClone(objects);
}

/**
 * What a tree renders to depends on the tree alone (git names it by its content), and the
 * tests render the same trees again and again: every repository starts as the same fixture,
 * and both backends make the same commits. One kustomize build per distinct tree and worker
 * (on globalThis: with `isolate: false` vitest evaluates this module again for every file).
 */
const RENDERED = Symbol.for("failover-api.test.flux-render");

function renderTree(gitDir: string, tree: string, ksFile: string, ksName: string): KubeObject[] {
  const copy = mkdtempSync(join(tmpdir(), "flux-render-"));
  try {
    const archive = runSync("git", ["-C", gitDir, "archive", "--format=tar", tree]);
    runSync("tar", ["-x", "-C", copy], { input: archive });
    const ks = parseYamlObjects(readFileSync(join(copy, ksFile), "utf8")).find(
      (o) => o.kind === "Kustomization" && o.metadata.name === ksName,
    );
    if (ks === undefined) throw new Error(`no Flux Kustomization ${ksName} in ${ksFile}`);
    const spec = ks.spec as {
      path: string;
      components?: string[];
      targetNamespace?: string;
      postBuild?: { substitute?: Record<string, string> };
    };
    const dir = join(copy, spec.path);
    if (spec.components !== undefined) {
      const file = join(dir, "kustomization.yaml");
      const k = parse(readFileSync(file, "utf8")) as { components?: string[] };
      k.components = [...(k.components ?? []), ...spec.components];
      writeFileSync(file, stringify(k));
    }
    const built = renderDeploy(dir)
      .map((o) => stringify(o))
      .join("---\n");
    return parseYamlObjects(envsubst(built, spec.postBuild?.substitute ?? {})).map((o) =>
      spec.targetNamespace === undefined
        ? o
        : { ...o, metadata: { ...o.metadata, namespace: spec.targetNamespace } },
    );
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/**
 * drone/envsubst as Flux uses it, for the forms the fixtures use: `${VAR}`, `${VAR:=d}`,
 * `${VAR:-d}`, nested defaults (innermost first); unset without default is empty.
 */
function envsubst(text: string, vars: Record<string, string>): string {
  const innermost = /(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[=-]([^${}]*))?\}/;
  let out = text;
  for (let guard = 0; guard < 10_000; guard++) {
    const m = innermost.exec(out);
    if (m === null) return out;
    const [whole, name = "", fallback] = m;
    const value = vars[name] !== undefined && vars[name] !== "" ? vars[name] : (fallback ?? "");
    out = out.slice(0, m.index) + value + out.slice(m.index + whole.length);
  }
  throw new Error("envsubst did not finish");
}

/** kind/namespace/name of every object: what must not change name in a failover. */
export function objectNames(objects: readonly KubeObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`).sort();
}

/** Where the pods of a workload run and what claims they mount, as the cluster would see it. */
export interface Placement {
  readonly nodeSelectors: readonly (Record<string, string> | undefined)[];
  readonly claims: readonly string[];
}

/** A raw Deployment/StatefulSet's pod placement and claims. */
export function workloadPlacement(objects: readonly KubeObject[], name: string): Placement {
  const w = objects.find(
    (o) => (o.kind === "Deployment" || o.kind === "StatefulSet") && o.metadata.name === name,
  );
  if (w === undefined) throw new Error(`no workload ${name}`);
  const pod = (w.spec as { template: { spec: PodSpec } }).template.spec;
  return {
    nodeSelectors: [pod.nodeSelector],
    claims: (pod.volumes ?? []).flatMap((v) =>
      v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [],
    ),
  };
}

interface PodSpec {
  nodeSelector?: Record<string, string>;
  volumes?: { persistentVolumeClaim?: { claimName: string } }[];
}

/**
 * An app-template HelmRelease's effective placement per enabled controller (a controller's
 * pod options over defaultPodOptions, overwrite strategy) and the claims of its persistence
 * items, with `{{ .Release.Name }}` rendered as the chart's `tpl` does; any other chart: its
 * top-level `values.nodeSelector` and `values.persistence.existingClaim`.
 */
export function helmReleasePlacement(objects: readonly KubeObject[], name: string): Placement {
  const hr = objects.find((o) => o.kind === "HelmRelease" && o.metadata.name === name);
  if (hr === undefined) throw new Error(`no HelmRelease ${name}`);
  const spec = hr.spec as {
    releaseName?: string;
    chart?: { spec?: { chart?: string } };
    chartRef?: unknown;
    values: {
      nodeSelector?: Record<string, string>;
      defaultPodOptions?: { nodeSelector?: Record<string, string> };
      controllers?: Record<
        string,
        { enabled?: boolean; pod?: { nodeSelector?: Record<string, string> } }
      >;
      persistence?: Record<string, unknown> & { existingClaim?: string };
    };
  };
  const release = spec.releaseName ?? hr.metadata.name;
  const tpl = (s: string) => s.replace(/\{\{-?\s*\.Release\.Name\s*-?\}\}/g, release);
  const chart = spec.chart?.spec?.chart ?? (spec.chartRef === undefined ? "" : "app-template");
  const values = spec.values;
  if (chart !== "app-template") {
    const claim = values.persistence?.existingClaim;
    return { nodeSelectors: [values.nodeSelector], claims: claim === undefined ? [] : [claim] };
  }
  const controllers = Object.values(values.controllers ?? {}).filter((c) => c.enabled !== false);
  return {
    nodeSelectors: controllers.map(
      (c) => c.pod?.nodeSelector ?? values.defaultPodOptions?.nodeSelector,
    ),
    claims: Object.values(values.persistence ?? {}).flatMap((item) => {
      const claim = (item as { existingClaim?: string }).existingClaim;
      return typeof claim === "string" ? [tpl(claim)] : [];
    }),
  };
}
