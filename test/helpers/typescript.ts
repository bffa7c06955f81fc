import { createRequire } from "node:module";

/**
 * The TypeScript compiler API, loaded with require. An ESM `import ts from "typescript"` of
 * this CommonJS package first scans its 9 MB for named exports (cjs-module-lexer) and for its
 * module format: about a second of CPU a worker, before a line of it runs.
 */
export const ts: typeof import("typescript") = createRequire(import.meta.url)("typescript");
