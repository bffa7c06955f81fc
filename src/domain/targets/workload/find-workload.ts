import { type Document, isMap, type YAMLMap } from "yaml";
import { ManifestRefusal } from "../../errors.js";
import type { WorkloadKind, WorkloadTarget } from "../../service.js";
import { stringOf, valueAt } from "../../yaml/yaml-nodes.js";

const WORKLOAD_KINDS: readonly WorkloadKind[] = ["Deployment", "StatefulSet"];

export interface FoundWorkload {
  readonly kind: WorkloadKind;
  readonly name: string;
  readonly root: YAMLMap;
}

function describeTarget(target: WorkloadTarget): string {
  return `${target.kind ?? WORKLOAD_KINDS.join("/")} named ${target.name}`;
}

function namespaceNote(target: WorkloadTarget): string {
  return target.namespace === undefined ? "" : ` (namespace ${target.namespace})`;
}

function matches(root: YAMLMap, target: WorkloadTarget): WorkloadKind | undefined {
  const kind = stringOf(valueAt(root, "kind"));
  const kindOk = WORKLOAD_KINDS.find((k) => k === kind);
  if (kindOk === undefined || (target.kind !== undefined && target.kind !== kindOk)) {
    return undefined;
  }
  const metadata = valueAt(root, "metadata");
  if (!isMap(metadata)) return undefined;
  if (stringOf(valueAt(metadata, "name")) !== target.name) return undefined;
  const namespace = stringOf(valueAt(metadata, "namespace"));
  if (target.namespace !== undefined && namespace !== undefined && namespace !== target.namespace) {
    return undefined;
  }
  return kindOk;
}

/** The one document holding the target workload; refuses on none or several. */
export function findWorkload(
  docs: readonly Document.Parsed[],
  target: WorkloadTarget,
  file: string,
): FoundWorkload {
  const found: FoundWorkload[] = [];
  for (const doc of docs) {
    const root = doc.contents;
    if (!isMap(root)) continue;
    const kind = matches(root, target);
    if (kind !== undefined) found.push({ kind, name: target.name, root });
  }
  const [only, second] = found;
  if (only === undefined) {
    throw new ManifestRefusal(
      `no ${describeTarget(target)} in ${file}${namespaceNote(target)}: check the service's manifest path and its target kind, name and namespace.`,
      { file },
    );
  }
  if (second !== undefined) {
    throw new ManifestRefusal(
      `${found.length} documents in ${file} declare ${describeTarget(target)}${namespaceNote(target)}; exactly one is required. Remove the duplicates or set the target's kind/namespace to tell them apart.`,
      { file },
    );
  }
  return only;
}
