import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./render.js";

/**
 * No Docker engine here: the Dockerfile's invariants are checked as text. One instruction
 * per entry (continuation lines joined, comments dropped), grouped by stage.
 */
interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const full = `${pending}${line}`.trim();
    pending = "";
    if (full === "") continue;
    const [keyword = "", ...rest] = full.split(/\s+/);
    instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(" ") });
  }
  return instructions;
}

function stages(instructions: Instruction[]): { from: string; body: Instruction[] }[] {
  const out: { from: string; body: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") out.push({ from: instruction.args, body: [] });
    else out.at(-1)?.body.push(instruction);
  }
  return out;
}

const text = readFileSync(join(ROOT, "Dockerfile"), "utf8");
const all = parseDockerfile(text);
const [build, runtime, ...extra] = stages(all);
const args = (stage: { body: Instruction[] } | undefined, keyword: string) =>
  (stage?.body ?? []).filter((i) => i.keyword === keyword).map((i) => i.args);

describe("Dockerfile", () => {
  it("has two stages: build, then the runtime image", () => {
    expect(extra).toEqual([]);
    expect(build?.from).toMatch(/ AS build$/);
    expect(runtime?.from).toMatch(/ AS runtime$/);
  });

  it("builds on a Node LTS image (an even major, 22 or later), the same in both stages", () => {
    const image = /^ARG NODE_IMAGE=node:(\d+)-[a-z]+-slim$/m.exec(text);
    expect(image, "ARG NODE_IMAGE=node:<major>-<debian>-slim").not.toBeNull();
    const major = Number(image?.[1]);
    expect(major).toBeGreaterThanOrEqual(22);
    expect(major % 2).toBe(0);
    expect(build?.from).toMatch(/^\$\{NODE_IMAGE\} AS build$/);
    expect(runtime?.from).toMatch(/^\$\{NODE_IMAGE\} AS runtime$/);
  });

  it("build stage: npm ci (all dependencies), then npm run build", () => {
    const runs = args(build, "RUN");
    expect(runs[0]).toMatch(/^npm ci\b/);
    expect(runs[0]).not.toContain("--omit=dev");
    expect(runs.at(-1)).toBe("npm run build");
    // The build script compiles tsconfig.build.json into dist/, which has cli.js.
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.build).toBe("tsc -p tsconfig.build.json");
    const tsconfig = JSON.parse(readFileSync(join(ROOT, "tsconfig.build.json"), "utf8")) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    expect(tsconfig.compilerOptions).toMatchObject({ rootDir: "src", outDir: "dist" });
    expect(existsSync(join(ROOT, "src/cli.ts"))).toBe(true);
  });

  it("runtime stage: production dependencies only, git, dist/ from the build, examples/", () => {
    const runs = args(runtime, "RUN").join("\n");
    expect(runs).toMatch(/npm ci --omit=dev\b/);
    expect(runs).not.toMatch(/npm (install|i)\b/);
    expect(runs).toMatch(/apt-get install -y --no-install-recommends git\b/);
    expect(runs).toContain("rm -rf /var/lib/apt/lists/*");
    const copies = args(runtime, "COPY");
    expect(copies).toContain("--from=build /app/dist ./dist");
    expect(copies).toContain("examples ./examples");
    expect(copies.filter((c) => c.includes("src"))).toEqual([]);
  });

  it("runtime settings: production, the demo repository in /tmp, port 8080", () => {
    const env = args(runtime, "ENV").join(" ");
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    expect(env).toMatch(/\bDEMO_REPO=\/tmp\/demo-repo\b/);
    expect(env).toMatch(/\bPORT=8080\b/);
    expect(args(runtime, "EXPOSE")).toEqual(["8080"]);
    expect(args(runtime, "WORKDIR")).toEqual(["/app"]);
  });

  it("runs as the numeric uid 1000, set after the last RUN", () => {
    const body = runtime?.body ?? [];
    const users = body.filter((i) => i.keyword === "USER");
    expect(users.map((u) => u.args)).toEqual(["1000:1000"]);
    const userAt = body.findIndex((i) => i.keyword === "USER");
    expect(body.slice(userAt).some((i) => i.keyword === "RUN")).toBe(false);
    expect(args(build, "USER")).toEqual([]);
  });

  it("starts node dist/cli.js serve, in exec form, with no HEALTHCHECK and no curl", () => {
    expect(args(runtime, "ENTRYPOINT")).toEqual(['["node", "dist/cli.js"]']);
    expect(args(runtime, "CMD")).toEqual(['["serve"]']);
    expect(all.filter((i) => i.keyword === "HEALTHCHECK")).toEqual([]);
    expect(text).not.toMatch(/\b(curl|wget)\b/);
  });

  it("copies only files that exist, and .dockerignore keeps the rest out", () => {
    for (const copy of all.filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"))) {
      const sources = copy.args.split(" ").slice(0, -1);
      for (const source of sources) expect(existsSync(join(ROOT, source)), source).toBe(true);
    }
    const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    for (const entry of [
      "node_modules",
      "dist",
      ".git",
      ".demo-repo",
      "coverage",
      "test",
      ".env",
    ]) {
      expect(ignored, entry).toContain(entry);
    }
    for (const needed of ["src", "examples", "package.json", "package-lock.json"]) {
      expect(ignored, needed).not.toContain(needed);
    }
  });
});
