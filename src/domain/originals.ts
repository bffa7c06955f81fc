import { isScalar, parseDocument } from "yaml";
import { z } from "zod";
import { ManifestRefusal } from "./errors.js";

/**
 * Where a failover keeps the source text of the templated values it replaced with literals
 * (`{{ .Release.Name }}`, `${APP}` whose variable names other objects too), so that the
 * failover back writes them back byte for byte. In the GitOps repository, next to the
 * locks: read in the same repository read as the manifests, so it costs no call, and it is
 * in Git's history with the failover it belongs to. The way back leaves it: a value is
 * restored only while it still holds the literal that was written in its place.
 */
export const ORIGINALS_DIR = ".failover/originals";

export function originalsPath(service: string): string {
  return `${ORIGINALS_DIR}/${service}.yaml`;
}

export interface OriginalValue {
  readonly file: string;
  readonly field: string;
  /** The scalar's source text, quotes included, as the file had it on `side`. */
  readonly text: string;
  /** The side the text stands for (where the failover moved away from). */
  readonly side: "primary" | "backup";
  /** The literal the failover wrote in its place. */
  readonly written: string;
}

const schema = z
  .object({
    service: z.string().min(1),
    values: z.array(
      z
        .object({
          file: z.string().min(1),
          field: z.string().min(1),
          text: z.string().min(1),
          side: z.enum(["primary", "backup"]),
          written: z.string().min(1),
        })
        .strict(),
    ),
  })
  .strict();

/** The recorded values; refuses (names the file and the fix) a record that is not clearly valid. */
export function parseOriginals(text: string, path: string, service: string): OriginalValue[] {
  const fail = (why: string): never => {
    throw new ManifestRefusal(
      `${path} cannot be read (${why}): it holds the templated values a failover of ${service} replaced, which the failover back writes back. Fix it, or delete it to fail back to literal values.`,
      { file: path },
    );
  };
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return fail(doc.errors[0]?.message ?? "not YAML");
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 0 });
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    return fail(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  }
  if (parsed.data.service !== service) fail(`it names service ${parsed.data.service}`);
  for (const v of parsed.data.values) {
    // Only ever one templated scalar: nothing else may be spliced into a manifest from here.
    const scalar = parseDocument(v.text);
    const value = scalar.contents;
    if (
      scalar.errors.length > 0 ||
      !isScalar(value) ||
      typeof value.value !== "string" ||
      !/\$\{|\{\{/.test(value.value) ||
      /[\r\n]/.test(v.text)
    ) {
      fail(`${v.file} ${v.field}: ${JSON.stringify(v.text)} is not one templated value`);
    }
  }
  return parsed.data.values;
}

export function renderOriginals(service: string, values: readonly OriginalValue[]): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    `# failover-api: the source text of templated values that a failover of ${service} replaced`,
    "# with literals; the failover back writes them back. Kept by failover-api: do not edit.",
    `service: ${q(service)}`,
    values.length === 0 ? "values: []" : "values:",
    ...values.flatMap((v) => [
      `  - file: ${q(v.file)}`,
      `    field: ${q(v.field)}`,
      `    text: ${q(v.text)}`,
      `    side: ${v.side}`,
      `    written: ${q(v.written)}`,
    ]),
    "",
  ].join("\n");
}
