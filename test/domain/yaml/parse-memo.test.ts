import { describe, expect, it } from "vitest";
import { parseManifest, withParseMemo } from "../../../src/domain/yaml/parse-manifest.js";

const TEXT = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
const BROKEN = "a: [\n";

describe("withParseMemo", () => {
  it("parses a text once within the call, and anew outside it", () => {
    const [first, second, other] = withParseMemo(() => [
      parseManifest(TEXT, "apps/a.yaml"),
      parseManifest(TEXT, "apps/b.yaml"),
      parseManifest(`${TEXT}# other\n`, "apps/a.yaml"),
    ]);
    expect(second).toBe(first);
    expect(other).not.toBe(first);
    expect(parseManifest(TEXT, "apps/a.yaml")).not.toBe(first);
    expect(parseManifest(TEXT, "apps/a.yaml")).not.toBe(parseManifest(TEXT, "apps/a.yaml"));
  });

  it("nested calls share the outer one's parses; nothing is kept once it ends, even by a throw", () => {
    const outer = withParseMemo(() => {
      const docs = parseManifest(TEXT, "apps/a.yaml");
      expect(withParseMemo(() => parseManifest(TEXT, "apps/a.yaml"))).toBe(docs);
      return docs;
    });
    expect(() =>
      withParseMemo(() => {
        parseManifest(TEXT, "apps/a.yaml");
        throw new Error("operation failed");
      }),
    ).toThrow("operation failed");
    const after = withParseMemo(() => parseManifest(TEXT, "apps/a.yaml"));
    expect(after).not.toBe(outer);
    expect(after.map(String)).toEqual(outer.map(String));
  });

  it("a refusal names the file it was asked for, each time", () => {
    withParseMemo(() => {
      expect(() => parseManifest(BROKEN, "apps/a.yaml")).toThrow(
        /^apps\/a\.yaml is not valid YAML/,
      );
      expect(() => parseManifest(BROKEN, "apps/b.yaml")).toThrow(
        /^apps\/b\.yaml is not valid YAML/,
      );
    });
  });
});
