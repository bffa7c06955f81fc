import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/http/openapi/document.js";
import {
  type OpenApiLike,
  referenceMarkdown,
  withReference,
} from "../../src/http/openapi/markdown.js";

/**
 * docs/http-api.md ends with a reference generated from the OpenAPI document. When a route or
 * a schema changes, this fails until the file is regenerated with
 * `UPDATE_DOCS=1 npx vitest run test/http/openapi-docs.test.ts`.
 */
const FILE = fileURLToPath(new URL("../../docs/http-api.md", import.meta.url));

describe("docs/http-api.md", () => {
  it("holds the reference generated from the OpenAPI document", () => {
    const committed = readFileSync(FILE, "utf8");
    const expected = withReference(
      committed,
      referenceMarkdown(openApiDocument() as unknown as OpenApiLike),
    );
    if (process.env.UPDATE_DOCS === "1" && expected !== committed) writeFileSync(FILE, expected);
    else
      expect(
        committed,
        "regenerate with UPDATE_DOCS=1 npx vitest run test/http/openapi-docs.test.ts",
      ).toBe(expected);
  });

  it("names the fields the routes serve, not the old ones", () => {
    const text = readFileSync(FILE, "utf8");
    expect(text).not.toMatch(/nodeSelector/);
    expect(text).not.toMatch(/\bto, path, head\b/);
  });
});
