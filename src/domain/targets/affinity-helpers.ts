import type { YAMLMap, YAMLSeq } from "yaml";
import { ManifestRefusal } from "../errors.js";
import { mapAt, mapItem, seqAt, stringOf, valueAt, type Where } from "../yaml/yaml-nodes.js";
import type { PlacementValue } from "./placement-value.js";

/** A located value with its YAML path. */
export interface PathValue extends PlacementValue {
  readonly field: string;
}

const REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution";

/** `<affinity>.nodeAffinity.required....nodeSelectorTerms` when present (path for messages). */
export function requiredTerms(
  affinity: YAMLMap,
  affinityPath: string,
  where: Where,
): { terms: YAMLSeq; path: string } | undefined {
  let path = `${affinityPath}.nodeAffinity`;
  const nodeAffinity = mapAt(affinity, "nodeAffinity", path, where, true);
  path += `.${REQUIRED}`;
  const required = nodeAffinity && mapAt(nodeAffinity, REQUIRED, path, where, true);
  path += ".nodeSelectorTerms";
  const terms = required && seqAt(required, "nodeSelectorTerms", path, where, true);
  return terms === undefined ? undefined : { terms, path };
}

/**
 * The values of every required nodeAffinity `In` expression on `key` under the terms (same rules
 * as a raw workload: Exists is ignored, other operators and empty value lists are refused).
 */
export function inExpressionValues(
  found: { terms: YAMLSeq; path: string },
  key: string,
  primary: string,
  where: Where,
  extract: (node: unknown, field: string) => PlacementValue,
): PathValue[] {
  const values: PathValue[] = [];
  for (const [t, termNode] of found.terms.items.entries()) {
    const termPath = `${found.path}[${t}]`;
    const term = mapItem(termNode, termPath, where);
    const exprsPath = `${termPath}.matchExpressions`;
    const exprs = seqAt(term, "matchExpressions", exprsPath, where, true);
    for (const [e, exprNode] of (exprs?.items ?? []).entries()) {
      const exprPath = `${exprsPath}[${e}]`;
      const expr = mapItem(exprNode, exprPath, where);
      if (stringOf(valueAt(expr, "key")) !== key) continue;
      const operator = stringOf(valueAt(expr, "operator"));
      if (operator === "Exists") continue;
      if (operator !== "In") {
        throw new ManifestRefusal(
          `${where.file}: ${exprPath}.operator is ${operator ?? "not a string"} on ${key}; failover can only rewrite required nodeAffinity expressions with operator In. Use operator In (or nodeSelector) for ${key}.`,
          { file: where.file, field: `${exprPath}.operator` },
        );
      }
      const valuesPath = `${exprPath}.values`;
      const list = seqAt(expr, "values", valuesPath, where, true);
      if (list === undefined || list.items.length === 0) {
        throw new ManifestRefusal(
          `${where.file}: ${valuesPath} is empty; an In expression on ${key} needs values. Add values: [${primary}].`,
          { file: where.file, field: valuesPath },
        );
      }
      for (const [v, valueNode] of list.items.entries()) {
        const field = `${valuesPath}[${v}]`;
        values.push({ field, ...extract(valueNode, field) });
      }
    }
  }
  return values;
}
