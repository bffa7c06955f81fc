/**
 * The reference section of docs/http-api.md, written from the OpenAPI document (so the two
 * cannot disagree: test/http/openapi-docs.test.ts fails when the committed file is stale).
 */
type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
};
type Operation = {
  summary?: string;
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
};
export interface OpenApiLike {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

export const BEGIN = "<!-- reference: generated from GET /openapi.json; do not edit by hand -->";
export const END = "<!-- end of the generated reference -->";

/** Successes, and any status whose body is not just the common `ErrorBody`. */
function shown(status: string, response: Operation["responses"][string]): boolean {
  const schema = response.content?.["application/json"]?.schema;
  return status.startsWith("2") || (schema !== undefined && schema.$ref !== ERROR_REF);
}
const ERROR_REF = "#/components/schemas/ErrorBody";

export function referenceMarkdown(doc: OpenApiLike): string {
  const schemas = doc.components?.schemas ?? {};
  const resolve = (s: Schema): Schema => {
    const name = s.$ref?.replace("#/components/schemas/", "");
    return name === undefined ? s : (schemas[name] ?? s);
  };
  const fields = (schema: Schema | undefined): string => {
    // A union of objects (one shape per outcome): each shape, its outcome first.
    if (schema === undefined) return "";
    const s = resolve(schema);
    const variants = s.oneOf ?? s.anyOf;
    if (variants !== undefined) return unionFields(variants.map(resolve));
    if (s.properties === undefined)
      return Array.isArray(s.type) ? s.type.join("|") : (s.type ?? "");
    const required = new Set(s.required ?? []);
    return `{${Object.keys(s.properties)
      .map((k) => `${k}${required.has(k) ? "" : "?"}`)
      .join(", ")}}`;
  };
  /** `{common fields}`, then what each outcome adds: the shapes differ only there. */
  const unionFields = (variants: Schema[]): string => {
    const keysOf = (v: Schema) => Object.keys(v.properties ?? {});
    // Different bodies for one status (not one shape per outcome): each in full.
    if (!variants.every((v) => v.properties?.outcome !== undefined)) {
      return variants.map((v) => fields(v)).join("` or `");
    }
    const common = keysOf(variants[0] ?? {}).filter((k) =>
      variants.every((v) => keysOf(v).includes(k)),
    );
    const optional = (v: Schema, k: string) => ((v.required ?? []).includes(k) ? k : `${k}?`);
    const head = `{${common.map((k) => optional(variants[0] ?? {}, k)).join(", ")}}`;
    const adds = variants.map((v) => {
      const outcome = v.properties?.outcome;
      const label = outcome?.const ?? outcome?.enum?.join("/") ?? "?";
      const extra = keysOf(v).filter((k) => !common.includes(k));
      return `${String(label)}: ${extra.length === 0 ? "nothing" : extra.map((k) => optional(v, k)).join(", ")}`;
    });
    return `${head}\`, by outcome adding \`${adds.join("; ")}`;
  };
  const out: string[] = [BEGIN, "", "## Reference", ""];
  out.push(
    "Every route, its parameters, the fields of its answers (`?`: may be absent) and the statuses it",
    "answers. The schemas are in `GET /openapi.json` (OpenAPI 3.1); errors are all `ErrorBody`",
    `\`${fields(schemas.ErrorBody)}\` unless shown.`,
    "",
  );
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      out.push(`### \`${method.toUpperCase()} ${path}\``, "", op.summary ?? "", "");
      const params = (op.parameters ?? []).map((p) => `\`${p.name}\` (${p.in})`);
      if (params.length > 0) out.push(`- Parameters: ${params.join(", ")}`);
      const body = op.requestBody?.content["application/json"]?.schema;
      if (body !== undefined) out.push(`- JSON body: \`${fields(body)}\``);
      for (const [status, response] of Object.entries(op.responses)) {
        const [type, media] = Object.entries(response.content ?? {})[0] ?? [];
        const shape =
          type === "application/json"
            ? ` \`${fields(media?.schema)}\``
            : type === undefined
              ? ""
              : ` (${type})`;
        if (shown(status, response)) out.push(`- \`${status}\`${shape}: ${response.description}`);
      }
      const errors = Object.entries(op.responses)
        .filter(([s, r]) => !shown(s, r))
        .map(([s]) => s);
      if (errors.length > 0) out.push(`- Errors: ${errors.join(", ")}`);
      out.push("");
    }
  }
  out.push(END);
  return `${out.join("\n").replace(/\n{3,}/g, "\n\n")}\n`;
}

/** `markdown` with its generated section replaced by (or, when missing, ended with) `reference`. */
export function withReference(markdown: string, reference: string): string {
  const start = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END);
  if (start === -1 || end === -1) return `${markdown.trimEnd()}\n\n${reference}`;
  return `${markdown.slice(0, start)}${reference}${markdown.slice(end + END.length).replace(/^\n/, "")}`;
}
