import { isAlias, isSeq, type YAMLMap, type YAMLSeq } from "yaml";
import { FailoverError, ManifestRefusal } from "../../errors.js";
import type { FieldTarget } from "../../service.js";
import { childPath } from "../../yaml/field-path.js";
import { parseManifest } from "../../yaml/parse-manifest.js";
import { mapAt, mapItem, seqAt, stringOf, valueAt, type Where } from "../../yaml/yaml-nodes.js";
import {
  describeObject,
  isHelmRelease,
  mapRoots,
  metadataOf,
  releaseNameOf,
} from "../k8s-objects.js";
import { placementValue, substitutionDisabled } from "../placement-value.js";
import type { Located } from "../types.js";

/** One step of a field path: a mapping key or a list index. */
export type PathSegment = { readonly key: string } | { readonly index: number };

function invalidPath(path: string, at: number, why: string): never {
  throw new FailoverError(
    "config_invalid",
    `field path ${JSON.stringify(path)} is not valid at character ${at + 1}: ${why}. Write it as dotted keys with [index] for lists and ["quoted"] for keys containing dots, e.g. spec.values.nodeName or spec.nodeSelector["kubernetes.io/hostname"].`,
    { details: { field: path } },
  );
}

/**
 * Parses `a.b[0].c["k.e/y"]`: dotted keys, `[n]` list indices, `["..."]` / `['...']` for keys
 * holding dots or brackets. Unquoted keys may contain `/` and `-`.
 */
export function parseFieldPath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  let i = 0;
  const plainKey = /^[^.[\]"'\s]+/;
  while (i < path.length) {
    const char = path[i];
    if (char === "[") {
      const rest = path.slice(i);
      const index = /^\[(0|[1-9][0-9]*)\]/.exec(rest);
      const dq = /^\["((?:[^"\\]|\\.)*)"\]/.exec(rest);
      const sq = /^\['((?:[^']|'')*)'\]/.exec(rest);
      if (index?.[1] !== undefined) {
        segments.push({ index: Number(index[1]) });
        i += index[0].length;
      } else if (dq?.[1] !== undefined) {
        let key: unknown;
        try {
          key = JSON.parse(`"${dq[1]}"`);
        } catch {
          invalidPath(path, i, "bad escape in quoted key");
        }
        segments.push({ key: String(key) });
        i += dq[0].length;
      } else if (sq?.[1] !== undefined) {
        segments.push({ key: sq[1].replace(/''/g, "'") });
        i += sq[0].length;
      } else {
        invalidPath(path, i, 'expected [index] or ["key"]');
      }
    } else {
      if (segments.length > 0) {
        if (char !== ".") invalidPath(path, i, "expected . or [");
        i++;
      }
      const key = plainKey.exec(path.slice(i));
      if (key === null) invalidPath(path, i, "expected a key");
      segments.push({ key: key[0] });
      i += key[0].length;
    }
  }
  if (segments.length === 0) invalidPath(path, 0, "the path is empty");
  return segments;
}

/** The canonical spelling of a path, as every locator names fields in messages. */
export function formatFieldPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const s of segments) {
    if ("index" in s) out += `[${s.index}]`;
    else if (out === "") out = childPath("", s.key).replace(/^\./, "");
    else out = childPath(out, s.key);
  }
  return out;
}

function selectDocument(roots: readonly YAMLMap[], target: FieldTarget, file: string): YAMLMap {
  const wanted = target.document;
  const matches =
    wanted === undefined
      ? [...roots]
      : roots.filter(
          (root) =>
            (wanted.kind === undefined || stringOf(valueAt(root, "kind")) === wanted.kind) &&
            (wanted.name === undefined || metadataOf(root).name === wanted.name),
        );
  const listing = roots.map(describeObject).join(", ") || "none";
  const [only, second] = matches;
  const selector =
    wanted === undefined
      ? ""
      : [
          wanted.kind === undefined ? undefined : `kind ${wanted.kind}`,
          wanted.name === undefined ? undefined : `name ${wanted.name}`,
        ]
          .filter((s) => s !== undefined)
          .join(", ");
  if (only === undefined) {
    throw new ManifestRefusal(
      `no document${selector ? ` with ${selector}` : ""} in ${file} (documents: ${listing}): check the target's path and document.`,
      { file },
    );
  }
  if (second !== undefined) {
    throw new ManifestRefusal(
      `${matches.length} documents in ${file} match${selector ? ` ${selector}` : " (the target names no document)"} (${matches.map(describeObject).join(", ")}); set the target's document kind and name so exactly one matches.`,
      { file, documents: matches.map(describeObject) },
    );
  }
  return only;
}

/** An item of a list on the edit path that must itself be a list. */
function seqItem(node: unknown, field: string, where: Where): YAMLSeq {
  if (isAlias(node) || !isSeq(node)) {
    throw new ManifestRefusal(
      `${where.file}: ${field} is ${isAlias(node) ? "a YAML alias" : "not a list"}; failover follows the configured path through literal lists and mappings only. Fix the manifest or the target's field.`,
      { file: where.file, field },
    );
  }
  if (node.anchor !== undefined) {
    throw new ManifestRefusal(
      `${where.file}: ${field} carries the YAML anchor &${node.anchor}; editing inside it would also change every alias of it. Remove the anchor and write the values out.`,
      { file: where.file, field },
    );
  }
  return node;
}

/** One scalar in one document of a file, at a configured path. */
export function locateField(text: string, file: string, target: FieldTarget): Located {
  const segments = parseFieldPath(target.field);
  const field = formatFieldPath(segments);
  const docs = parseManifest(text, file);
  const root = selectDocument(mapRoots(docs), target, file);
  const where: Where = { file };
  const label = describeObject(root);

  const missing = (at: string, why: string): never => {
    throw new ManifestRefusal(
      `${file}: ${label} has no ${field} (${why}). Check the target's field, or add ${field}: ${target.primary}.`,
      { file, field, missing: at },
    );
  };

  let container: YAMLMap | YAMLSeq = root;
  let path = "";
  for (const [i, segment] of segments.entries()) {
    const here = formatFieldPath(segments.slice(0, i + 1));
    const next = segments[i + 1];
    if (next === undefined) {
      const node = childOf(container, segment);
      if (node === undefined) return missing(here, describeMissing(container, segment, path));
      const disabled = substitutionDisabled(root);
      const found = placementValue(
        node,
        field,
        text,
        where,
        disabled ? "disabled" : "collect",
        isHelmRelease(root) ? releaseNameOf(root) : undefined,
      );
      const sides = { primary: target.primary, backup: target.backup };
      if (found.variable !== undefined) {
        const ref = {
          file,
          field,
          role: "value" as const,
          variable: found.variable,
          exact: found.exact === true,
          scalar: found.node,
          ...sides,
        };
        return { values: [], substitutions: [ref], warnings: [] };
      }
      const value = {
        file,
        field,
        role: "value" as const,
        value: found.value,
        scalar: found.node,
        ...(found.template === undefined ? {} : { template: found.template }),
      };
      return { values: [{ ...value, ...sides }], substitutions: [], warnings: [] };
    }
    let child: YAMLMap | YAMLSeq | undefined;
    if ("key" in segment) {
      if (isSeq(container)) return missing(here, `${path} is a list, not a mapping`);
      child =
        "index" in next
          ? seqAt(container, segment.key, here, where, true)
          : mapAt(container, segment.key, here, where, true);
    } else {
      if (!isSeq(container)) {
        return missing(here, `${path || "the document"} is a mapping, not a list`);
      }
      const item = container.items[segment.index];
      if (item !== undefined) {
        child = "index" in next ? seqItem(item, here, where) : mapItem(item, here, where);
      }
    }
    if (child === undefined) return missing(here, describeMissing(container, segment, path));
    container = child;
    path = here;
  }
  // parseFieldPath never returns an empty path.
  throw new FailoverError("internal", `empty field path for ${file}`);
}

/** The node at one step, undefined when absent or when the container has the wrong shape. */
function childOf(container: YAMLMap | YAMLSeq, segment: PathSegment): unknown {
  if ("key" in segment) return isSeq(container) ? undefined : valueAt(container, segment.key);
  return isSeq(container) ? container.items[segment.index] : undefined;
}

function describeMissing(container: YAMLMap | YAMLSeq, segment: PathSegment, path: string): string {
  const where = path || "the document";
  if ("key" in segment && isSeq(container)) return `${where} is a list, not a mapping`;
  if ("index" in segment && !isSeq(container)) return `${where} is a mapping, not a list`;
  if ("index" in segment) {
    return `${where} has ${container.items.length} item${container.items.length === 1 ? "" : "s"}`;
  }
  const keys = (container as YAMLMap).items
    .map((pair) => stringOf(pair.key))
    .filter((k): k is string => k !== undefined);
  return `${where} has no key ${JSON.stringify(segment.key)}; keys: ${keys.join(", ") || "none"}`;
}
