import { isMap, isScalar, isSeq } from "yaml";
import { childPath } from "./field-path.js";
import { parseManifest } from "./parse-manifest.js";

/**
 * The YAML path of the scalar that holds byte `offset` of `text` (for messages such as
 * "components/volsync/pvc.yaml metadata.name"), prefixed with `Kind name` of its document;
 * `line N` when the file does not parse or the offset is in no scalar.
 */
export function fieldAt(text: string, file: string, offset: number): string {
  const line = `line ${text.slice(0, offset).split("\n").length}`;
  let docs: ReturnType<typeof parseManifest>;
  try {
    docs = parseManifest(text, file);
  } catch {
    return line;
  }
  for (const doc of docs) {
    const found = walk(doc.contents, "", offset);
    if (found === undefined) continue;
    const root = doc.contents;
    const kind = isMap(root) ? root.get("kind") : undefined;
    const metadata = isMap(root) ? root.get("metadata") : undefined;
    const name = isMap(metadata) ? metadata.get("name") : undefined;
    const label =
      typeof kind === "string" ? `${kind} ${typeof name === "string" ? name : "(unnamed)"} ` : "";
    return `${label}${found || "(document)"}`;
  }
  return line;
}

function walk(node: unknown, path: string, offset: number): string | undefined {
  if (isScalar(node)) {
    const range = node.range;
    return range && offset >= range[0] && offset < range[1] ? path : undefined;
  }
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "?";
      const here = path === "" ? key : childPath(path, key);
      const inKey = walk(pair.key, here, offset);
      if (inKey !== undefined) return `${inKey} (key)`;
      const found = walk(pair.value, here, offset);
      if (found !== undefined) return found;
    }
  }
  if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const found = walk(item, `${path}[${i}]`, offset);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
