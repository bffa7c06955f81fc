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
 * Parses every document of a manifest, keeping source ranges. Anything the parser does not fully
 * understand (an error in any document, or any exception it throws) is a refusal: a file that is
 * not understood is never patched.
 */
export function parseManifest(text: string, file: string): readonly Document.Parsed[] {
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
