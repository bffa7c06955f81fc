import { isMap, isScalar, isSeq, type Scalar, type YAMLMap } from "yaml";
import { ManifestRefusal } from "../../errors.js";
import type { WorkloadTarget } from "../../service.js";
import { childPath } from "../../yaml/field-path.js";
import { mapAt, mapItem, seqAt, stringOf, valueAt, type Where } from "../../yaml/yaml-nodes.js";
import { inExpressionValues, requiredTerms } from "../affinity-helpers.js";
import { editableValue } from "../placement-value.js";
import type { FoundWorkload } from "./find-workload.js";

/** One scalar failover may rewrite, with where it sits in the file. */
export interface ValueField {
  readonly role: "node" | "claim";
  /** YAML path, e.g. "spec.template.spec.nodeSelector.role". */
  readonly field: string;
  readonly node: Scalar<string> & { range: [number, number, number] };
  readonly value: string;
  /** Set when the value uses Flux substitution (resolved by the engine). */
  readonly variable?: string;
  /** With `variable`: true when the value is exactly `${VAR}`. */
  readonly exact?: boolean;
}

export interface PlacementFields {
  readonly podSpec: YAMLMap;
  readonly nodeSelector: ValueField | undefined;
  readonly nodeAffinity: readonly ValueField[];
  readonly claim: ValueField;
  /**
   * Other volumes of the pod on the same claim: they move with it, or the moved pod would
   * still mount the primary's data (or wait for a claim bound on the dead node).
   */
  readonly sameClaim: readonly ValueField[];
}

const POD_SPEC = "spec.template.spec";

function podSpecOf(workload: FoundWorkload, file: string): YAMLMap {
  const where: Where = { file };
  const spec = mapAt(workload.root, "spec", "spec", where, true);
  const template = spec && mapAt(spec, "template", "spec.template", where, true);
  const podSpec = template && mapAt(template, "spec", POD_SPEC, where, true);
  if (podSpec === undefined) {
    throw new ManifestRefusal(
      `${file}: ${workload.kind} ${workload.name} has no ${POD_SPEC}; failover edits the pod template. Fix the manifest.`,
      { file, field: POD_SPEC },
    );
  }
  return podSpec;
}

function nodeSelectorField(
  podSpec: YAMLMap,
  target: WorkloadTarget,
  text: string,
  where: Where,
): ValueField | undefined {
  const selectorPath = `${POD_SPEC}.nodeSelector`;
  const selector = mapAt(podSpec, "nodeSelector", selectorPath, where, true);
  if (selector === undefined) return undefined;
  const node = valueAt(selector, target.nodeLabelKey);
  if (node === undefined) return undefined;
  const field = childPath(selectorPath, target.nodeLabelKey);
  return { role: "node", field, ...editableValue(node, field, text, where) };
}

function nodeAffinityFields(
  podSpec: YAMLMap,
  target: WorkloadTarget,
  text: string,
  where: Where,
): ValueField[] {
  const path = `${POD_SPEC}.affinity`;
  const affinity = mapAt(podSpec, "affinity", path, where, true);
  const found = affinity && requiredTerms(affinity, path, where);
  if (found === undefined) return [];
  return inExpressionValues(found, target.nodeLabelKey, target.primary.node, where, (node, field) =>
    editableValue(node, field, text, where),
  ).map((v) => ({ role: "node", ...v }));
}

function volumeClaimTemplateNamed(workload: FoundWorkload, volumeName: string): boolean {
  if (workload.kind !== "StatefulSet") return false;
  const spec = valueAt(workload.root, "spec");
  const templates = isMap(spec) ? valueAt(spec, "volumeClaimTemplates") : undefined;
  if (!isSeq(templates)) return false;
  return templates.items.some((item) => {
    const metadata = isMap(item) ? valueAt(item, "metadata") : undefined;
    return isMap(metadata) && stringOf(valueAt(metadata, "name")) === volumeName;
  });
}

function claimField(
  workload: FoundWorkload,
  podSpec: YAMLMap,
  target: WorkloadTarget,
  text: string,
  where: Where,
): ValueField {
  const { file } = where;
  const volumesPath = `${POD_SPEC}.volumes`;
  const volumes = seqAt(podSpec, "volumes", volumesPath, where, true);
  const items = volumes?.items ?? [];
  const named = items
    .map((item, index) => ({ item, index, name: mapNameOf(item) }))
    .filter((v) => v.name === target.volumeName);
  const [match, duplicate] = named;
  if (match === undefined) {
    if (volumeClaimTemplateNamed(workload, target.volumeName)) {
      throw new ManifestRefusal(
        `${file}: StatefulSet ${workload.name} gets volume ${target.volumeName} from spec.volumeClaimTemplates, which Kubernetes does not allow to change in place. Use a plain volume in ${volumesPath} with persistentVolumeClaim.claimName pointing at an existing claim.`,
        { file, field: "spec.volumeClaimTemplates" },
      );
    }
    const existing = items.map(mapNameOf).filter((n): n is string => n !== undefined);
    throw new ManifestRefusal(
      `${file}: ${volumesPath} has no volume named ${target.volumeName} (volumes: ${existing.length > 0 ? existing.join(", ") : "none"}). Set the service's volume name to one of them, or add the volume.`,
      { file, field: volumesPath, volumes: existing },
    );
  }
  if (duplicate !== undefined) {
    throw new ManifestRefusal(
      `${file}: ${volumesPath} declares volume ${target.volumeName} more than once. Remove the duplicate.`,
      { file, field: volumesPath },
    );
  }
  const volumePath = `${volumesPath}[${match.index}]`;
  const volume = mapItem(match.item, volumePath, where);
  const pvcPath = `${volumePath}.persistentVolumeClaim`;
  const pvc = mapAt(volume, "persistentVolumeClaim", pvcPath, where, true);
  if (pvc === undefined) {
    throw new ManifestRefusal(
      `${file}: volume ${target.volumeName} (${volumePath}) is not a persistentVolumeClaim volume; failover swaps claims only. Use persistentVolumeClaim.claimName for it.`,
      { file, field: pvcPath },
    );
  }
  const field = `${pvcPath}.claimName`;
  const node = valueAt(pvc, "claimName");
  if (node === undefined) {
    throw new ManifestRefusal(`${file}: ${field} is missing. Set it to ${target.primary.claim}.`, {
      file,
      field,
    });
  }
  return { role: "claim", field, ...editableValue(node, field, text, where) };
}

function mapNameOf(item: unknown): string | undefined {
  return isMap(item) ? stringOf(valueAt(item, "name")) : undefined;
}

/** Every node and claim value of the workload, refusing what failover cannot edit safely. */
export function locatePlacement(
  workload: FoundWorkload,
  target: WorkloadTarget,
  text: string,
  file: string,
): PlacementFields {
  const where: Where = { file };
  const podSpec = podSpecOf(workload, file);
  const nodeSelector = nodeSelectorField(podSpec, target, text, where);
  const nodeAffinity = nodeAffinityFields(podSpec, target, text, where);
  if (nodeSelector === undefined && nodeAffinity.length === 0) {
    throw new ManifestRefusal(
      `no nodeSelector ${target.nodeLabelKey} or required nodeAffinity on ${target.nodeLabelKey} in ${file} (${workload.kind} ${workload.name}): add \`nodeSelector: {${target.nodeLabelKey}: ${target.primary.node}}\` to ${POD_SPEC}.`,
      { file, field: `${POD_SPEC}.nodeSelector` },
    );
  }
  const claim = claimField(workload, podSpec, target, text, where);
  const sameClaim = sameClaimFields(podSpec, target, claim, text, where);
  return { podSpec, nodeSelector, nodeAffinity, claim, sameClaim };
}

function sameClaimFields(
  podSpec: YAMLMap,
  target: WorkloadTarget,
  claim: ValueField,
  text: string,
  where: Where,
): ValueField[] {
  const volumes = valueAt(podSpec, "volumes");
  if (!isSeq(volumes)) return [];
  const claims = new Set([target.primary.claim, target.backup.claim, claim.node.value]);
  return volumes.items.flatMap((item, index) => {
    if (!isMap(item) || mapNameOf(item) === target.volumeName) return [];
    const pvc = valueAt(item, "persistentVolumeClaim");
    const node = isMap(pvc) ? valueAt(pvc, "claimName") : undefined;
    if (!isScalar(node) || typeof node.value !== "string" || !claims.has(node.value)) return [];
    const field = `${POD_SPEC}.volumes[${index}].persistentVolumeClaim.claimName`;
    return [{ role: "claim" as const, field, ...editableValue(node, field, text, where) }];
  });
}
