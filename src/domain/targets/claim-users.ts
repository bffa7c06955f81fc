import { isMap, isScalar, isSeq, type YAMLMap } from "yaml";
import { childPath } from "../yaml/field-path.js";
import { parseManifest } from "../yaml/parse-manifest.js";
import { stringOf, valueAt } from "../yaml/yaml-nodes.js";
import { isHelmRelease, mapRoots, metadataOf } from "./k8s-objects.js";

/** One place an object names a claim. */
interface ClaimUse {
  readonly claim: string;
  readonly field: string;
}

function mapIn(node: unknown, ...keys: string[]): YAMLMap | undefined {
  let current = node;
  for (const key of keys) {
    if (!isMap(current)) return undefined;
    current = valueAt(current, key);
  }
  return isMap(current) ? current : undefined;
}

function volumeClaims(podSpec: YAMLMap | undefined, podPath: string): ClaimUse[] {
  const volumes = podSpec && valueAt(podSpec, "volumes");
  if (!isSeq(volumes)) return [];
  return volumes.items.flatMap((volume, i) => {
    const pvc = mapIn(volume, "persistentVolumeClaim");
    const claim = pvc && stringOf(valueAt(pvc, "claimName"));
    const field = `${podPath}.volumes[${i}].persistentVolumeClaim.claimName`;
    return claim === undefined ? [] : [{ claim, field }];
  });
}

const POD_TEMPLATE_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);
/** Kinds failover's own targets edit: in a target file these are the target, not a bystander. */
const TARGET_KINDS = new Set(["Deployment", "StatefulSet", "HelmRelease"]);

function usesOf(root: YAMLMap): ClaimUse[] {
  const kind = stringOf(valueAt(root, "kind")) ?? "";
  const spec = mapIn(root, "spec");
  if (spec === undefined) return [];
  const scalarAt = (key: string): ClaimUse[] => {
    const claim = stringOf(valueAt(spec, key));
    return claim === undefined ? [] : [{ claim, field: `spec.${key}` }];
  };
  if (kind === "ReplicationSource") return scalarAt("sourcePVC");
  if (kind === "ReplicationDestination") return scalarAt("destinationPVC");
  if (kind === "Pod") return volumeClaims(spec, "spec");
  if (POD_TEMPLATE_KINDS.has(kind)) {
    return volumeClaims(mapIn(spec, "template", "spec"), "spec.template.spec");
  }
  if (kind === "CronJob") {
    return volumeClaims(
      mapIn(spec, "jobTemplate", "spec", "template", "spec"),
      "spec.jobTemplate.spec.template.spec",
    );
  }
  if (isHelmRelease(root)) {
    const persistence = mapIn(spec, "values", "persistence");
    return (persistence?.items ?? []).flatMap((pair) => {
      const name = isScalar(pair.key) ? stringOf(pair.key) : undefined;
      const claim = isMap(pair.value) ? stringOf(valueAt(pair.value, "existingClaim")) : undefined;
      if (name === undefined || claim === undefined) return [];
      return [{ claim, field: `${childPath("spec.values.persistence", name)}.existingClaim` }];
    });
  }
  return [];
}

/** One object of a file naming a claim: what a neighbour check needs of the file, parsed once. */
export interface ObjectClaimUse {
  readonly kind: string;
  readonly name: string;
  readonly claim: string;
  readonly field: string;
}

/** A file's claim uses (e.g. from a cache keyed by its blob id, so it is parsed once). */
export interface FileClaimUses {
  readonly path: string;
  readonly uses: readonly ObjectClaimUse[];
}

/**
 * Every place the objects of a file name a claim (VolSync ReplicationSource/Destination, pod
 * volumes of Deployments, StatefulSets, DaemonSets, Jobs, CronJobs and Pods, app-template
 * HelmRelease persistence). A file that does not parse names none (warnings are best effort).
 */
export function claimUsesIn(file: { path: string; text: string }): ObjectClaimUse[] {
  let roots: YAMLMap[];
  try {
    roots = mapRoots(parseManifest(file.text, file.path));
  } catch {
    return [];
  }
  return roots.flatMap((root) => {
    const kind = stringOf(valueAt(root, "kind")) ?? "object";
    const name = metadataOf(root).name ?? "(unnamed)";
    return usesOf(root).map((use) => ({ kind, name, ...use }));
  });
}

/**
 * Plan warnings: other objects in `files` that name one of `claims` (see claimUsesIn), which
 * failover leaves alone.
 *
 * `exclude` lists the files the failover edits: in them Deployments, StatefulSets and
 * HelmReleases are taken to be the targets themselves and not reported; every other object in
 * them still is. Only literal claim names are matched (`${VAR}` is not resolved here).
 */
export function claimUseWarnings(
  claims: readonly string[],
  files: readonly FileClaimUses[],
  exclude: readonly string[],
): string[] {
  const wanted = new Set(claims.filter((c) => c !== ""));
  if (wanted.size === 0) return [];
  const excluded = new Set(exclude);
  const warnings: string[] = [];
  for (const file of files) {
    for (const use of file.uses) {
      if (excluded.has(file.path) && TARGET_KINDS.has(use.kind)) continue;
      if (!wanted.has(use.claim)) continue;
      warnings.push(
        `${file.path}: ${use.kind} ${use.name} uses claim ${use.claim} (${use.field}); failover does not change it.`,
      );
    }
  }
  return [...new Set(warnings)];
}

/** claimUseWarnings over file texts (files that do not parse are skipped). */
export function claimUsers(
  claims: readonly string[],
  files: readonly { path: string; text: string }[],
  exclude: readonly string[],
): string[] {
  return claimUseWarnings(
    claims,
    files.map((f) => ({ path: f.path, uses: claimUsesIn(f) })),
    exclude,
  );
}
