import { isMap, isScalar, type Scalar, type YAMLMap } from "yaml";
import { ManifestRefusal } from "../errors.js";
import { editableString, rawText, stringOf, valueAt, type Where } from "../yaml/yaml-nodes.js";
import { variablesIn } from "./flux/flux-vars.js";
import { isExactSubstitution } from "./types.js";

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

/**
 * A literal string value, or a value using Flux substitution, to resolve
 * in the Flux Kustomization that applies the file.
 */
export function editableValue(
  node: unknown,
  field: string,
  text: string,
  where: Where,
): PlacementValue {
  if (isScalar(node) && typeof node.value === "string" && node.value.includes("${")) {
    const [variable] = variablesIn(node.value);
    if (variable !== undefined && !node.value.includes("{{")) {
      // The usual checks (anchor, tag, block scalar), templating aside.
      const scalar = editableString(node, field, text, where, { templated: true });
      return {
        node: scalar,
        value: scalar.value,
        variable,
        exact: isExactSubstitution(node.value),
      };
    }
  }
  const scalar = editableString(node, field, text, where);
  return { node: scalar, value: scalar.value };
}
