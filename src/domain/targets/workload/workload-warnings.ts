import { isMap, isScalar, isSeq, type YAMLMap } from "yaml";
import type { WorkloadTarget } from "../../service.js";
import { stringOf, valueAt } from "../../yaml/yaml-nodes.js";
import { stuckPodWarning } from "../stuck-pod.js";
import type { FoundWorkload } from "./find-workload.js";
import type { PlacementFields } from "./locate-placement.js";

function mapOf(parent: unknown, key: string): YAMLMap | undefined {
  if (!isMap(parent)) return undefined;
  const node = valueAt(parent, key);
  return isMap(node) ? node : undefined;
}

/**
 * For a promote's plan: a Recreate Deployment or a StatefulSet does not start the new pod
 * while the old one, on the dead primary node, is still Terminating. (RollingUpdate is fine:
 * the failover moves the pod to another claim, so there is no Multi-Attach.)
 */
export function workloadPromoteWarnings(workload: FoundWorkload, file: string): string[] {
  if (workload.kind === "StatefulSet") {
    return [stuckPodWarning(file, `StatefulSet ${workload.name}`)];
  }
  const strategy = mapOf(mapOf(workload.root, "spec"), "strategy");
  const type = strategy === undefined ? undefined : stringOf(valueAt(strategy, "type"));
  if (workload.kind !== "Deployment" || type !== "Recreate") return [];
  return [stuckPodWarning(file, `Deployment ${workload.name} (strategy Recreate)`)];
}

function replicasWarning(
  workload: FoundWorkload,
  fields: PlacementFields,
  file: string,
): string | undefined {
  const replicas = valueAt(workload.root, "spec");
  const node = isMap(replicas) ? valueAt(replicas, "replicas") : undefined;
  const count = isScalar(node) ? node.value : undefined;
  if (typeof count !== "number" || count <= 1) return undefined;
  return `${file}: ${workload.kind} ${workload.name} has ${count} replicas sharing claim ${fields.claim.value}; a ReadWriteOnce claim attaches to one node at a time, so the pods cannot all start. Set spec.replicas: 1.`;
}

function preferredAffinityWarning(
  workload: FoundWorkload,
  fields: PlacementFields,
  target: WorkloadTarget,
  file: string,
): string | undefined {
  const nodeAffinity = mapOf(mapOf(fields.podSpec, "affinity"), "nodeAffinity");
  const preferred =
    nodeAffinity && valueAt(nodeAffinity, "preferredDuringSchedulingIgnoredDuringExecution");
  if (!isSeq(preferred)) return undefined;
  const onKey = preferred.items.some((item) => {
    const preference = mapOf(item, "preference");
    const exprs = preference && valueAt(preference, "matchExpressions");
    return (
      isSeq(exprs) &&
      exprs.items.some((e) => isMap(e) && stringOf(valueAt(e, "key")) === target.nodeLabelKey)
    );
  });
  if (!onKey) return undefined;
  return `${file}: ${workload.kind} ${workload.name} has a preferred nodeAffinity on ${target.nodeLabelKey}, which failover leaves unchanged; only required placement moves. Remove the preference or make it required.`;
}

/** Things that will not stop a failover but may make it fail at runtime. */
export function workloadWarnings(
  workload: FoundWorkload,
  fields: PlacementFields,
  target: WorkloadTarget,
  file: string,
): string[] {
  return [
    replicasWarning(workload, fields, file),
    preferredAffinityWarning(workload, fields, target, file),
  ].filter((w): w is string => w !== undefined);
}
