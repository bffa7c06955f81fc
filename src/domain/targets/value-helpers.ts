import { type Document, isMap, isScalar, type Scalar, type YAMLMap } from "yaml";
import { ManifestRefusal } from "../errors.js";
import { editableValue } from "../manifest/locate-placement.js";
import { rawText, stringOf, valueAt, type Where } from "../manifest/yaml-nodes.js";
import { substitutionVariable } from "./types.js";

/** A value failover may rewrite, or a `${VAR}` to resolve in the Flux Kustomization. */
export interface PlacementValue {
  readonly node: Scalar<string> & { range: [number, number, number] };
  readonly value: string;
  readonly variable?: string;
}

/** Flux skips post-build substitution for objects annotated like this. */
const SUBSTITUTE_ANNOTATION = "kustomize.toolkit.fluxcd.io/substitute";

/** True when Flux leaves `${...}` in this object alone (`.../substitute: disabled`). */
export function substitutionDisabled(root: YAMLMap): boolean {
  const metadata = valueAt(root, "metadata");
  const annotations = isMap(metadata) ? valueAt(metadata, "annotations") : undefined;
  return isMap(annotations) && stringOf(valueAt(annotations, SUBSTITUTE_ANNOTATION)) === "disabled";
}

/**
 * A literal string, or (exactly `${VAR}`) a Flux substitution to resolve. Helm templates and
 * partly substituted strings are refused with what to configure instead.
 */
export function placementValue(
  node: unknown,
  field: string,
  text: string,
  where: Where,
  substitutions: "collect" | "disabled",
): PlacementValue {
  if (isScalar(node) && typeof node.value === "string") {
    const value = node.value;
    const raw = rawText(node, text);
    if (value.includes("{{") || value.includes("}}")) {
      throw new ManifestRefusal(
        `${where.file}: ${field} is a Helm template (${raw}); failover cannot tell what it renders to. Configure a literal value here, or point a "field" target at the place the value really lives (for example the ConfigMap or Kustomization that holds it).`,
        { file: where.file, field, value: raw },
      );
    }
    if (value.includes("${")) {
      const variable = substitutionVariable(value);
      if (substitutions === "disabled") {
        throw new ManifestRefusal(
          `${where.file}: ${field} is ${raw}, but the object is annotated ${SUBSTITUTE_ANNOTATION}: disabled, so Flux applies it unchanged. Write the literal value in place.`,
          { file: where.file, field, value: raw },
        );
      }
      if (variable === undefined) {
        throw new ManifestRefusal(
          `${where.file}: ${field} is partly a Flux substitution (${raw}); failover can follow a value that is exactly \${VAR} only. Write the literal value, make the whole value one variable set in the Flux Kustomization's spec.postBuild.substitute, or point a "field" target at the place the value really lives.`,
          { file: where.file, field, value: raw },
        );
      }
    }
  }
  return editableValue(node, field, text, where, { substitutions: "collect" });
}

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
