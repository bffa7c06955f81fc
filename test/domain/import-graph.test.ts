import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ts } from "../helpers/typescript.js";
import { BUILTINS, importCycles, moduleGraph, packageOf } from "./import-graph.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const graph = moduleGraph(REPO, "src");
const cycles = importCycles(graph);
const isDomain = (file: string) => file.startsWith("src/domain/");
const domainFiles = graph.files.filter(isDomain);

/**
 * Packages the domain may use: they compute, they do no I/O. Adding one is a decision, made
 * here, not by an import line.
 */
const PURE_PACKAGES = new Set(["yaml", "zod", "diff", "mdast-util-from-markdown"]);

describe("import graph of src/", () => {
  it("reads every source file and resolves every relative import", () => {
    expect(graph.unresolved).toEqual([]);
    // The walk found the tree (a wrong root would make every assertion below vacuous).
    expect(domainFiles).toContain("src/domain/targets/engine.ts");
    expect(domainFiles.length).toBeGreaterThan(30);
    expect(graph.edges.get("src/domain/plan.ts")).toContain("src/domain/targets/engine.ts");
  });

  it("has no import loop anywhere in src/", () => {
    expect(cycles.map((c) => c.join(" -> "))).toEqual([]);
  });
});

describe("src/domain is pure", () => {
  it("imports nothing of the project outside src/domain", () => {
    const outward = domainFiles.flatMap((file) =>
      (graph.edges.get(file) ?? []).filter((to) => !isDomain(to)).map((to) => `${file} -> ${to}`),
    );
    expect(outward).toEqual([]);
  });

  it("imports no Node built-in and only packages that do no I/O", () => {
    const found = domainFiles.flatMap((file) =>
      (graph.external.get(file) ?? []).map((specifier) => ({ file, specifier })),
    );
    const builtins = found.filter(({ specifier }) => BUILTINS.has(specifier));
    expect(builtins.map(({ file, specifier }) => `${file} imports ${specifier}`)).toEqual([]);
    const impure = found.filter(
      ({ specifier }) => !BUILTINS.has(specifier) && !PURE_PACKAGES.has(packageOf(specifier)),
    );
    expect(impure.map(({ file, specifier }) => `${file} imports ${specifier}`)).toEqual([]);
  });

  it("uses no ambient I/O: process, console, fetch, timers, the clock or randomness", () => {
    const uses = domainFiles.flatMap((file) =>
      ambientIo(readFileSync(join(REPO, file), "utf8")).map((use) => `${file}: ${use}`),
    );
    expect(uses).toEqual([]);
  });
});

const AMBIENT_OBJECTS = new Set(["process", "console", "globalThis", "window", "Bun", "Deno"]);
const AMBIENT_CALLS = new Set([
  "fetch",
  "setTimeout",
  "setInterval",
  "setImmediate",
  "queueMicrotask",
  "require",
]);

/**
 * Globals that reach the world or the clock (an injected clock or value is what the domain
 * takes instead). From the syntax tree, so comments and strings do not count.
 */
function ambientIo(source: string): string[] {
  const file = ts.createSourceFile("x.ts", source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const line = (node: import("typescript").Node) =>
    file.getLineAndCharacterOfPosition(node.getStart()).line + 1;
  const visit = (node: import("typescript").Node): void => {
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const object = node.expression.text;
      const member = node.name.text;
      if (AMBIENT_OBJECTS.has(object)) found.push(`${object}.${member} (line ${line(node)})`);
      if ((object === "Date" && member === "now") || (object === "Math" && member === "random")) {
        found.push(`${object}.${member} (line ${line(node)})`);
      }
    }
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression)) {
      if (AMBIENT_CALLS.has(node.expression.text)) {
        found.push(`${node.expression.text}() (line ${line(node)})`);
      }
    }
    if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === "Date" &&
      (node.arguments?.length ?? 0) === 0
    ) {
      found.push(`new Date() (line ${line(node)})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe("the checks themselves", () => {
  const dir = mkdtempSync(join(tmpdir(), "import-graph-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write("src/a.ts", 'import { b } from "./b.js";\nexport const a = b;\n');
  write("src/b.ts", 'import type { C } from "./deep/c.js";\nexport const b: C = 1;\n');
  write("src/deep/c.ts", 'export type { A } from "../a.js";\nexport type C = number;\n');
  write(
    "src/d.ts",
    '// import "./a.js"\nexport const d = "import \'./a.js\'";\nimport "./d.js";\n',
  );
  write("src/e.ts", 'import "node:fs";\nimport("./f.js");\nimport { z } from "zod/v4";\n');
  write("src/f.ts", 'import "./missing.js";\nimport "@scope/pkg/sub";\n');

  it("find a loop through type-only imports and re-exports, and a self-import", () => {
    const found = importCycles(moduleGraph(dir, "src"));
    expect(found).toEqual([
      ["src/a.ts", "src/b.ts", "src/deep/c.ts", "src/a.ts"],
      ["src/d.ts", "src/d.ts"],
    ]);
  });

  it("ignore imports in comments and strings, and follow dynamic import()", () => {
    const g = moduleGraph(dir, "src");
    expect(g.edges.get("src/d.ts")).toEqual(["src/d.ts"]);
    expect(g.edges.get("src/e.ts")).toEqual(["src/f.ts"]);
    expect(g.external.get("src/e.ts")).toEqual(["node:fs", "zod/v4"]);
    expect(g.unresolved).toEqual(["src/f.ts: ./missing.js"]);
    expect(["node:fs", "zod/v4", "@scope/pkg/sub"].map(packageOf)).toEqual([
      "node:fs",
      "zod",
      "@scope/pkg",
    ]);
    expect(BUILTINS.has("node:fs") && BUILTINS.has("fs")).toBe(true);
  });

  it("find ambient I/O in code, not in comments or strings", () => {
    const source = [
      "// process.env.X, fetch(), Date.now()",
      'const s = "console.log(1)";',
      "export const t = () => Date.now() + Math.random();",
      "export const u = () => new Date();",
      "export const v = (ms: number) => new Date(ms);",
      "export function w() { setTimeout(() => {}, 1); return process.env.HOME; }",
    ].join("\n");
    expect(ambientIo(source)).toEqual([
      "Date.now (line 3)",
      "Math.random (line 3)",
      "new Date() (line 4)",
      "setTimeout() (line 6)",
      "process.env (line 6)",
    ]);
  });
});
