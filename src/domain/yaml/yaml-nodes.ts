import { isAlias, isMap, isScalar, isSeq, type Scalar, type YAMLMap, type YAMLSeq } from "yaml";
import { ManifestRefusal } from "../errors.js";

/** What every refusal needs: the file, for the message. */
export interface Where {
  readonly file: string;
}

/** The value node of `key` in `map`: undefined when the key is absent. */
export function valueAt(map: YAMLMap, key: string): unknown {
  for (const pair of map.items) {
    if (isScalar(pair.key) && pair.key.value === key) return pair.value ?? undefined;
  }
  return undefined;
}

function isNull(node: unknown): boolean {
  return isScalar(node) && node.value === null;
}

/** The plain string value of a scalar, or undefined for anything else (aliases, numbers, maps). */
export function stringOf(node: unknown): string | undefined {
  return isScalar(node) && typeof node.value === "string" ? node.value : undefined;
}

function refuseAlias(node: unknown, field: string, where: Where): void {
  if (isAlias(node)) {
    throw new ManifestRefusal(
      `${where.file}: ${field} is a YAML alias (*${node.source}); failover edits literal values only. Write the value out in place.`,
      { file: where.file, field },
    );
  }
}

/**
 * A container on the way to a value failover edits. Aliases, anchors and merge keys would make
 * the edit change (or miss) values elsewhere, so they are refused here.
 */
function checkEditPathContainer(node: YAMLMap | YAMLSeq, field: string, where: Where): void {
  if (node.anchor !== undefined) {
    throw new ManifestRefusal(
      `${where.file}: ${field} carries the YAML anchor &${node.anchor}; editing inside it would also change every alias of it. Remove the anchor and write the values out.`,
      { file: where.file, field },
    );
  }
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isScalar(pair.key) && pair.key.value === "<<") {
        throw new ManifestRefusal(
          `${where.file}: ${field} uses a YAML merge key (<<); failover cannot tell which values apply. Write the values out in place.`,
          { file: where.file, field },
        );
      }
    }
  }
}

export function mapAt(
  parent: YAMLMap,
  key: string,
  field: string,
  where: Where,
  onEditPath: boolean,
): YAMLMap | undefined {
  const node = valueAt(parent, key);
  if (node === undefined || isNull(node)) return undefined;
  refuseAlias(node, field, where);
  if (!isMap(node)) {
    throw new ManifestRefusal(
      `${where.file}: ${field} is not a mapping; failover expects a Kubernetes object here. Fix the manifest.`,
      { file: where.file, field },
    );
  }
  if (onEditPath) checkEditPathContainer(node, field, where);
  return node;
}

export function seqAt(
  parent: YAMLMap,
  key: string,
  field: string,
  where: Where,
  onEditPath: boolean,
): YAMLSeq | undefined {
  const node = valueAt(parent, key);
  if (node === undefined || isNull(node)) return undefined;
  refuseAlias(node, field, where);
  if (!isSeq(node)) {
    throw new ManifestRefusal(
      `${where.file}: ${field} is not a list; failover expects a Kubernetes list here. Fix the manifest.`,
      { file: where.file, field },
    );
  }
  if (onEditPath) checkEditPathContainer(node, field, where);
  return node;
}

/** An item of a list on the edit path that must be a mapping. */
export function mapItem(node: unknown, field: string, where: Where): YAMLMap {
  refuseAlias(node, field, where);
  if (!isMap(node)) {
    throw new ManifestRefusal(
      `${where.file}: ${field} is not a mapping; failover expects a Kubernetes object here. Fix the manifest.`,
      { file: where.file, field },
    );
  }
  checkEditPathContainer(node, field, where);
  return node;
}

/** Source text of a node for messages: what the file says, not what it means. */
export function rawText(node: unknown, text: string): string {
  if ((isScalar(node) || isAlias(node) || isMap(node) || isSeq(node)) && node.range) {
    const raw = text.slice(node.range[0], node.range[1]);
    return raw.length > 80 ? `${raw.slice(0, 77)}...` : raw;
  }
  return String(node);
}

const TEMPLATED = /\$\{|\$[A-Za-z_(]|\{\{|\}\}/;

/**
 * A value failover may replace: a literal string scalar, plain or quoted on one logical line,
 * with no anchor, no tag beyond !!str and no templating.
 */
export function editableString(
  node: unknown,
  field: string,
  text: string,
  where: Where,
  options: { templated?: boolean } = {},
): Scalar<string> & { range: [number, number, number] } {
  const refuse = (why: string, todo: string): never => {
    const raw = rawText(node, text);
    throw new ManifestRefusal(`${where.file}: ${field} is ${why} (${raw}); ${todo}`, {
      file: where.file,
      field,
      value: raw,
    });
  };
  const literal = "Write the literal value in place.";
  if (isAlias(node))
    return refuse("a YAML alias", `failover edits literal values only. ${literal}`);
  if (!isScalar(node) || !node.range) {
    return refuse("not a scalar", "failover expects a string here. Fix the manifest.");
  }
  if (node.anchor !== undefined) {
    return refuse(
      `anchored (&${node.anchor})`,
      `editing it would also change every alias of it. Remove the anchor. ${literal}`,
    );
  }
  if (node.tag !== undefined && node.tag !== "tag:yaml.org,2002:str") {
    return refuse(`tagged ${node.tag}`, `failover edits plain strings only. ${literal}`);
  }
  if (node.type === "BLOCK_LITERAL" || node.type === "BLOCK_FOLDED") {
    return refuse(
      "a block scalar",
      "failover edits single-line values only. Write it as a plain or quoted string.",
    );
  }
  if (typeof node.value !== "string") {
    const kind = node.value === null ? "null" : typeof node.value;
    return refuse(`a ${kind}, not a string`, `failover expects a string here. ${literal}`);
  }
  if (options.templated !== true && TEMPLATED.test(node.value)) {
    return refuse(
      "templated (Flux substitution or Helm template)",
      `failover cannot tell what it renders to. ${literal}`,
    );
  }
  return node as Scalar<string> & { range: [number, number, number] };
}
