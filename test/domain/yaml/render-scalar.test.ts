import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { doubleQuoted, isPlainSafe } from "../../../src/domain/yaml/render-scalar.js";

describe("isPlainSafe", () => {
  it("accepts ordinary node and claim names", () => {
    for (const v of ["primary", "backup", "e0", "node-1", "pvc-sonarr", "k8s.example/a", "a_b"]) {
      expect(isPlainSafe(v), v).toBe(true);
    }
  });

  it("rejects what YAML 1.1 or 1.2 would read as something else, or cannot write plain", () => {
    for (const v of [
      "yes",
      "No",
      "on",
      "y",
      "true",
      "null",
      "~",
      "1",
      "0777",
      "1e3",
      "0x1f",
      ".5",
    ]) {
      expect(isPlainSafe(v), v).toBe(false);
    }
    for (const v of [
      "2024-01-01",
      "1:20",
      "",
      " a",
      "a b",
      "a#b",
      "a:b",
      "-a",
      "[a]",
      "a,b",
      "é",
    ]) {
      expect(isPlainSafe(v), v).toBe(false);
    }
  });
});

describe("doubleQuoted", () => {
  it("reads back as the same string", () => {
    for (const v of [
      'a"b',
      "a\\b",
      "tab\there",
      "line\nbreak",
      "\u007f",
      "\u2028",
      "snow☃",
      "😀",
    ]) {
      expect(parseDocument(`k: ${doubleQuoted(v)}`).get("k"), v).toBe(v);
    }
  });
});
