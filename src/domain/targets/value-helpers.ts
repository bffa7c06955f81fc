import { type Document, isMap, isScalar, type Scalar, type YAMLMap } from "yaml";
import { ManifestRefusal } from "../errors.js";
import { editableString, rawText, stringOf, valueAt, type Where } from "../yaml/yaml-nodes.js";
import { editableValue } from "./workload/locate-placement.js";

/** A value failover may rewrite, or a `${VAR}` to resolve in the Flux Kustomization. */
export interface PlacementValue {
  readonly node: Scalar<string> & { range: [number, number, number] };
  /** As it takes effect: a Helm template evaluated, a substitution still to resolve. */
  readonly value: string;
  readonly variable?: string;
  readonly exact?: boolean;
  /** A Helm template failover evaluated to `value`: the scalar as written. */
  readonly template?: string;
}

/** Flux skips post-build substitution for objects annotated like this. */
const SUBSTITUTE_ANNOTATION = "kustomize.toolkit.fluxcd.io/substitute";

/** True when Flux leaves `${...}` in this object alone (`.../substitute: disabled`). */
export function substitutionDisabled(root: YAMLMap): boolean {
  const metadata = valueAt(root, "metadata");
  const annotations = isMap(metadata) ? valueAt(metadata, "annotations") : undefined;
  return isMap(annotations) && stringOf(valueAt(annotations, SUBSTITUTE_ANNOTATION)) === "disabled";
}

const RELEASE_NAME = /\{\{-?\s*\.Release\.Name\s*-?\}\}/g;

/**
 * A Helm template failover can evaluate: text around `{{ .Release.Name }}` (what app-template
 * passes through `tpl`), nothing else templated. Undefined otherwise.
 */
export function evaluateHelmTemplate(
  value: string,
  releaseName: string | undefined,
): string | undefined {
  if (releaseName === undefined || !RELEASE_NAME.test(value)) return undefined;
  RELEASE_NAME.lastIndex = 0;
  const out = value.replace(RELEASE_NAME, releaseName);
  return out.includes("{{") || out.includes("}}") || out.includes("${") ? undefined : out;
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

/**
 * A literal string, a Helm template failover can evaluate (`{{ .Release.Name }}` with
 * `releaseName`), or a value using Flux substitution (resolved by the engine). Other Helm
 * templates are refused with what to configure instead.
 */
export function placementValue(
  node: unknown,
  field: string,
  text: string,
  where: Where,
  substitutions: "collect" | "disabled",
  releaseName?: string,
): PlacementValue {
  if (isScalar(node) && typeof node.value === "string") {
    const value = node.value;
    const raw = rawText(node, text);
    if (value.includes("{{") || value.includes("}}")) {
      const evaluated = evaluateHelmTemplate(value, releaseName);
      if (evaluated !== undefined) {
        const scalar = editableString(node, field, text, where, { templated: true });
        return { node: scalar, value: evaluated, template: value };
      }
      throw new ManifestRefusal(
        `${where.file}: ${field} is a Helm template (${raw}); failover evaluates {{ .Release.Name }} (with text around it) in a HelmRelease only, and cannot tell what this renders to. Configure a literal value here, or point a "field" target at the place the value really lives (for example the ConfigMap or Kustomization that holds it).`,
        { file: where.file, field, value: raw },
      );
    }
    if (value.includes("${") && substitutions === "disabled") {
      throw new ManifestRefusal(
        `${where.file}: ${field} is ${raw}, but the object is annotated ${SUBSTITUTE_ANNOTATION}: disabled, so Flux applies it unchanged. Write the literal value in place.`,
        { file: where.file, field, value: raw },
      );
    }
  }
  return editableValue(node, field, text, where);
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
