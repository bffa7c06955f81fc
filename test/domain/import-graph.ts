import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { ts } from "../helpers/typescript.js";

/**
 * The module graph of a source tree, from each file's own import statements: static imports
 * (type-only ones too: a loop of types is still a loop in the design), `export ... from`,
 * dynamic `import()` and `require`. TypeScript's own pre-processor reads them, so comments and
 * strings that look like imports are not mistaken for them.
 */
export interface ModuleGraph {
  /** Repository-relative paths with `/`, e.g. "src/domain/plan.ts". */
  readonly files: readonly string[];
  /** file -> the project files it imports (relative specifiers, resolved). */
  readonly edges: ReadonlyMap<string, readonly string[]>;
  /** file -> what it imports that is not a project file: packages and built-ins, as written. */
  readonly external: ReadonlyMap<string, readonly string[]>;
  /** Relative specifiers that resolve to no file ("file: specifier"). */
  readonly unresolved: readonly string[];
}

const SOURCE = /\.(?:ts|tsx|mts|cts)$/;

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

/** `./x.js` as TypeScript's NodeNext resolution finds it: x.ts, x.tsx, x/index.ts... */
function resolveRelative(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const stem = base.replace(/\.(?:js|jsx|mjs|cjs|ts|tsx|mts|cts)$/, "");
  const candidates = [
    `${stem}.ts`,
    `${stem}.tsx`,
    `${stem}.mts`,
    `${stem}.cts`,
    join(base, "index.ts"),
    base,
  ];
  return candidates.find((c) => SOURCE.test(c) && existsSync(c));
}

/** The graph of every TypeScript file under `dir` (paths relative to `repoRoot`). */
export function moduleGraph(repoRoot: string, dir: string): ModuleGraph {
  const root = resolve(repoRoot, dir);
  const absolute = readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((f) => SOURCE.test(f) && !f.endsWith(".d.ts"))
    .map((f) => join(root, f))
    .sort();
  const name = (abs: string) => toPosix(relative(repoRoot, abs));
  const edges = new Map<string, string[]>();
  const external = new Map<string, string[]>();
  const unresolved: string[] = [];
  for (const file of absolute) {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const local: string[] = [];
    const outside: string[] = [];
    for (const { fileName: specifier } of info.importedFiles) {
      if (!specifier.startsWith(".")) {
        outside.push(specifier);
        continue;
      }
      const target = resolveRelative(file, specifier);
      if (target === undefined) unresolved.push(`${name(file)}: ${specifier}`);
      else local.push(name(target));
    }
    edges.set(name(file), [...new Set(local)]);
    external.set(name(file), [...new Set(outside)]);
  }
  return { files: absolute.map(name), edges, external, unresolved };
}

/**
 * Every import loop, one per strongly connected component (Tarjan), each shown as one concrete
 * path that starts and ends at the component's first file: ["a.ts", "b.ts", "a.ts"].
 */
export function importCycles(graph: Pick<ModuleGraph, "edges">): string[][] {
  const { edges } = graph;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  // Iterative, so a long chain of imports cannot overflow the call stack.
  for (const start of [...edges.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { node: string; children: readonly string[]; at: number }[] = [];
    const enter = (node: string) => {
      index.set(node, next);
      low.set(node, next);
      next++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, children: edges.get(node) ?? [], at: 0 });
    };
    enter(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame === undefined) break;
      const child = frame.children[frame.at++];
      if (child !== undefined) {
        if (!index.has(child)) enter(child);
        else if (onStack.has(child)) {
          low.set(frame.node, Math.min(low.get(frame.node) ?? 0, index.get(child) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) {
        low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop();
          if (member === undefined) break;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = (edges.get(frame.node) ?? []).includes(frame.node);
        if (component.length > 1 || selfLoop) components.push(component.sort());
      }
    }
  }
  return components
    .map((c) => cycleThrough(c, edges))
    .sort((a, b) => (a[0] ?? "").localeCompare(b[0] ?? ""));
}

/** A shortest path from the component's first file back to itself, inside the component. */
function cycleThrough(component: readonly string[], edges: ReadonlyMap<string, readonly string[]>) {
  const members = new Set(component);
  const first = component[0] ?? "";
  const previous = new Map<string, string>();
  const queue = [first];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] ?? "";
    for (const child of edges.get(node) ?? []) {
      if (!members.has(child)) continue;
      if (child === first) {
        const path = [first];
        for (let at = node; at !== first; at = previous.get(at) ?? first) path.splice(1, 0, at);
        return [...path, first];
      }
      if (!previous.has(child)) {
        previous.set(child, node);
        queue.push(child);
      }
    }
  }
  return [...component, first];
}

/** Node's built-in modules, with and without the `node:` prefix. */
export const BUILTINS: ReadonlySet<string> = new Set([
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
]);

/** The package a bare specifier names: "yaml", "@scope/pkg", "zod/v4" -> "zod". */
export function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

/** `npx tsx test/domain/import-graph.ts`: prints every import loop under src/. */
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
  const cycles = importCycles(moduleGraph(repo, "src"));
  for (const c of cycles) console.log(c.join(" -> "));
  console.log(`${cycles.length} import loop(s) under src/`);
}
