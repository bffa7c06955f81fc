import type { Document } from "yaml";
import { ManifestRefusal } from "../errors.js";
import { composeWithinDepth, MAX_NESTING_DEPTH } from "./nesting-depth.js";

/** Larger inputs are refused before the parser sees them. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function firstLine(message: string): string {
  return (message.split("\n")[0] ?? "").slice(0, 300);
}

/**
 * The documents parsed during the current withParseMemo call, by text. One operation parses
 * the same few files again and again (each target's locate, the verification of the patch,
 * every chart-source and Flux lookup, every service of a node-wide plan): measured on the
 * homelab-shapes fixture, 1,360 parses of 27 distinct texts. Set only while a synchronous
 * call runs, so nothing outlives it: no memory kept between operations, nothing shared
 * between two of them. The documents are never changed after parsing (patches splice text;
 * nothing in src/ edits a parsed node), so one parse serves every caller of the call.
 */
let memo: Map<string, readonly Document.Parsed[]> | undefined;

/** Runs `operation` with parses shared by text (nested calls share the outer one's). */
export function withParseMemo<T>(operation: () => T): T {
  if (memo !== undefined) return operation();
  memo = new Map();
  try {
    return operation();
  } finally {
    memo = undefined;
  }
}

/**
 * Parses every document of a manifest, keeping source ranges. Anything the parser does not fully
 * understand (an error in any document, or any exception it throws) is a refusal: a file that is
 * not understood is never patched. Within withParseMemo a text is parsed once (a refusal,
 * which names the file, is not kept: it is worked out again for each file that has the text).
 */
export function parseManifest(text: string, file: string): readonly Document.Parsed[] {
  const known = memo?.get(text);
  if (known !== undefined) return known;
  const docs = parseUnshared(text, file);
  memo?.set(text, docs);
  return docs;
}

function parseUnshared(text: string, file: string): readonly Document.Parsed[] {
  if (text.length > MAX_MANIFEST_BYTES || utf8Length(text) > MAX_MANIFEST_BYTES) {
    throw new ManifestRefusal(
      `${file} is larger than ${MAX_MANIFEST_BYTES} bytes; failover refuses to parse it. Split the workload into its own smaller file.`,
      { file },
    );
  }
  let docs: Document.Parsed[];
  try {
    const composed = composeWithinDepth(text, {
      keepSourceTokens: true,
      uniqueKeys: true,
      prettyErrors: false,
      strict: true,
    });
    if ("depth" in composed) {
      throw new ManifestRefusal(
        `${file} nests collections ${composed.depth} levels deep, more than ${MAX_NESTING_DEPTH}; failover refuses to parse it. Flatten the file or split it.`,
        { file },
      );
    }
    docs = composed.docs;
  } catch (error) {
    if (error instanceof ManifestRefusal) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ManifestRefusal(
      `${file} is not valid YAML: ${firstLine(reason)}. Fix the file so that it parses.`,
      { file },
    );
  }
  for (const [index, doc] of docs.entries()) {
    const error = doc.errors[0];
    if (error !== undefined) {
      throw new ManifestRefusal(
        `${file} is not valid YAML: document ${index + 1}: ${error.code} ${firstLine(error.message)}. Fix the file so that it parses.`,
        { file, document: index + 1 },
      );
    }
  }
  return docs;
}
