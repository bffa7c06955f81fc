import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { BUILT_CLI_ENV } from "../helpers/cli-process.js";

/**
 * A crash, not just a wrong answer: before nesting-depth.ts, the second deeply nested file a
 * process parsed killed it ("FATAL ERROR: RegExpCompiler Allocation failed"), which no
 * try/catch sees, so a unit test in a shared worker could pass while a server died. Here a
 * fresh node process parses three such files and must live to print three refusals.
 */
describe("deeply nested manifests in a fresh process", () => {
  it("three 20 KB files of '[' are three refusals, and the process exits 0", () => {
    const built = process.env[BUILT_CLI_ENV];
    const module =
      built !== undefined && built !== ""
        ? pathToFileURL(join(dirname(built), "domain", "yaml", "parse-manifest.js")).href
        : new URL("../../src/domain/yaml/parse-manifest.ts", import.meta.url).href;
    const loader = new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url).href;
    const script = `
      const { parseManifest } = await import(${JSON.stringify(module)});
      for (const text of ["[".repeat(20000), "a: " + "[".repeat(20000), "[".repeat(20000)]) {
        try { parseManifest(text, "apps/deep.yaml"); console.log("parsed"); }
        catch (e) { console.log(e.constructor.name + ": " + e.message.split(";")[0]); }
      }`;
    const out = execFileSync(
      process.execPath,
      [
        ...(module.endsWith(".ts") ? ["--import", loader] : []),
        "--input-type=module",
        "-e",
        script,
      ],
      { encoding: "utf8" },
    );
    expect(out.trim().split("\n")).toEqual(
      Array(3).fill(
        "ManifestRefusal: apps/deep.yaml nests collections 101 levels deep, more than 100",
      ),
    );
  });
});
