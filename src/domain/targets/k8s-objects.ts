import { type Document, isMap, type YAMLMap } from "yaml";
import { stringOf, valueAt } from "../yaml/yaml-nodes.js";

// Recognising the Kubernetes and Flux objects of parsed manifests, and naming them.

const FLUX_KUSTOMIZATION_API = /^kustomize\.toolkit\.fluxcd\.io\/v1(?:$|[a-z0-9])/;
const HELM_RELEASE_API = /^helm\.toolkit\.fluxcd\.io\/v2(?:$|[a-z0-9])/;

export function isFluxKustomization(root: YAMLMap): boolean {
  return (
    stringOf(valueAt(root, "kind")) === "Kustomization" &&
    FLUX_KUSTOMIZATION_API.test(stringOf(valueAt(root, "apiVersion")) ?? "")
  );
}

export function isHelmRelease(root: YAMLMap): boolean {
  return (
    stringOf(valueAt(root, "kind")) === "HelmRelease" &&
    HELM_RELEASE_API.test(stringOf(valueAt(root, "apiVersion")) ?? "")
  );
}

/** metadata.name and metadata.namespace when they are plain strings. */
export function metadataOf(root: YAMLMap): { name?: string; namespace?: string } {
  const metadata = valueAt(root, "metadata");
  if (!isMap(metadata)) return {};
  const name = stringOf(valueAt(metadata, "name"));
  const namespace = stringOf(valueAt(metadata, "namespace"));
  return {
    ...(name === undefined ? {} : { name }),
    ...(namespace === undefined ? {} : { namespace }),
  };
}

/** The mapping roots of the documents (empty and non-mapping documents are skipped). */
export function mapRoots(docs: readonly Document.Parsed[]): YAMLMap[] {
  return docs.flatMap((doc) => (isMap(doc.contents) ? [doc.contents] : []));
}

/** `Kind name` (or `Kind namespace/name`) for messages. */
export function describeObject(root: YAMLMap): string {
  const kind = stringOf(valueAt(root, "kind")) ?? "object";
  const { name, namespace } = metadataOf(root);
  const id = name === undefined ? "(unnamed)" : namespace ? `${namespace}/${name}` : name;
  return `${kind} ${id}`;
}

/**
 * The Helm release name of a HelmRelease as helm-controller computes it: `spec.releaseName`,
 * else `[spec.targetNamespace-]metadata.name`. Undefined when any of them is not a literal.
 */
export function releaseNameOf(root: YAMLMap): string | undefined {
  const spec = valueAt(root, "spec");
  const literal = (v: string | undefined) => (v === undefined || v.includes("${") ? undefined : v);
  if (isMap(spec)) {
    const releaseName = valueAt(spec, "releaseName");
    if (releaseName !== undefined) return literal(stringOf(releaseName));
  }
  const name = literal(metadataOf(root).name);
  if (name === undefined) return undefined;
  const targetNamespace = isMap(spec) ? valueAt(spec, "targetNamespace") : undefined;
  if (targetNamespace === undefined) return name;
  const ns = literal(stringOf(targetNamespace));
  return ns === undefined ? undefined : `${ns}-${name}`;
}
