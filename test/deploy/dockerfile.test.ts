import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
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

interface Stage {
  readonly name: string;
  /** The image or the earlier stage it starts from. */
  readonly base: string;
  readonly body: Instruction[];
}

function stages(instructions: Instruction[]): Stage[] {
  const out: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const m = /^(\S+) AS (\S+)$/i.exec(instruction.args);
      out.push({ base: m?.[1] ?? instruction.args, name: m?.[2] ?? "", body: [] });
    } else out.at(-1)?.body.push(instruction);
  }
  return out;
}

const text = readFileSync(join(ROOT, "Dockerfile"), "utf8");
const all = parseDockerfile(text);
const byName = new Map(stages(all).map((s) => [s.name, s]));
const stage = (name: string): Stage => {
  const found = byName.get(name);
  if (found === undefined) throw new Error(`no stage ${name}`);
  return found;
};
/** The stage and the stages it is built on, base first. */
const lineage = (name: string): Stage[] => {
  const s = stage(name);
  return byName.has(s.base) ? [...lineage(s.base), s] : [s];
};
const args = (stageOrStages: Stage | Stage[], keyword: string) =>
  [stageOrStages]
    .flat()
    .flatMap((s) => s.body)
    .filter((i) => i.keyword === keyword)
    .map((i) => i.args);

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  engines: { node: string };
  scripts: Record<string, string>;
};
const ciWorkflow = parse(readFileSync(join(ROOT, ".github/workflows/ci.yml"), "utf8")) as {
  jobs: Record<
    string,
    {
      strategy?: { matrix?: { node?: unknown[] } };
      steps: { uses?: string; run?: string; with?: Record<string, unknown> }[];
    }
  >;
};
const ciRun = readFileSync(join(ROOT, ".ci/run"), "utf8");

/** `>=20.18` (the only form package.json uses): the lowest major it admits. */
function enginesFloorMajor(range: string): number {
  const m = /^>=\s*(\d+)(?:\.\d+){0,2}$/.exec(range.trim());
  if (m === null) throw new Error(`engines.node "${range}": expected ">=MAJOR.MINOR"`);
  return Number(m[1]);
}

describe("Dockerfile", () => {
  it("has a build stage, a common runtime base, and two targets: github, then local (the default)", () => {
    expect(stages(all).map((s) => s.name)).toEqual(["build", "runtime-base", "github", "local"]);
    expect(stage("build").base).toBe(["$", "{NODE_IMAGE}"].join(""));
    expect(stage("runtime-base").base).toBe(["$", "{NODE_IMAGE}"].join(""));
    expect(stage("github").base).toBe("runtime-base");
    expect(stage("local").base).toBe("runtime-base");
  });

  it("Node: an LTS major that satisfies engines, and one CI runs .ci/run on, with the engines floor", () => {
    // The rule: image major is even (LTS), >= the engines floor; ci.yml's matrix, which
    // picks the Node that .ci/run then uses as it finds it, holds both the floor and the
    // image's major, so the tests run on what ships and on the oldest Node we admit.
    const image = /^ARG NODE_IMAGE=node:(\d+)-[a-z]+-slim$/m.exec(text);
    expect(image, "ARG NODE_IMAGE=node:<major>-<debian>-slim").not.toBeNull();
    const major = Number(image?.[1]);
    const floor = enginesFloorMajor(pkg.engines.node);
    expect(major % 2, "an even (LTS) major").toBe(0);
    expect(major).toBeGreaterThanOrEqual(floor);
    const ciJob = Object.values(ciWorkflow.jobs).find((job) =>
      job.steps.some((s) => s.run?.includes("bash .ci/run") === true),
    );
    expect(ciJob, "a ci.yml job runs bash .ci/run").toBeDefined();
    const matrix = (ciJob?.strategy?.matrix?.node ?? []).map(Number);
    expect(matrix).toContain(major);
    expect(matrix).toContain(floor);
    expect(Math.min(...matrix)).toBeGreaterThanOrEqual(floor);
    const setupNode = ciJob?.steps.find((s) => s.uses?.startsWith("actions/setup-node@") === true);
    expect(setupNode?.with?.["node-version"]).toContain("matrix.node");
    // .ci/run takes the machine's Node (what setup-node put there) and chooses none itself.
    expect(ciRun).not.toMatch(/\b(nvm|fnm|volta|n install|setup-node|nodesource)\b/);
    expect(ciRun).toMatch(/node \$\(node --version\)/);
    // And the Node running this test is one the engines admit.
    expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(floor);
  });

  it("build stage: npm ci (all dependencies), then npm run build", () => {
    const runs = args(stage("build"), "RUN");
    expect(runs[0]).toMatch(/^npm ci\b/);
    expect(runs[0]).not.toContain("--omit=dev");
    expect(runs.at(-1)).toBe("npm run build");
    // The build script compiles tsconfig.build.json into dist/, which has cli.js.
    expect(pkg.scripts.build).toBe("tsc -p tsconfig.build.json");
    const tsconfig = JSON.parse(readFileSync(join(ROOT, "tsconfig.build.json"), "utf8")) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    expect(tsconfig.compilerOptions).toMatchObject({ rootDir: "src", outDir: "dist" });
    expect(existsSync(join(ROOT, "src/cli.ts"))).toBe(true);
  });

  it("runtime base: tini, production dependencies only, dist/ from the build, app.yml", () => {
    const base = stage("runtime-base");
    const runs = args(base, "RUN").join("\n");
    expect(runs).toMatch(/apt-get install -y --no-install-recommends tini\b/);
    expect(runs).toMatch(/npm ci --omit=dev\b/);
    expect(runs).not.toMatch(/npm (install|i)\b/);
    expect(runs).toContain("rm -rf /var/lib/apt/lists/*");
    const copies = args(base, "COPY");
    expect(copies).toContain("--from=build /app/dist ./dist");
    expect(copies).toContain("app.yml ./app.yml");
    expect(copies.filter((c) => c.includes("src"))).toEqual([]);
  });

  it("tini is PID 1 in both targets: ENTRYPOINT tini -- node dist/cli.js, CMD serve", () => {
    for (const target of ["github", "local"]) {
      const entrypoints = args(lineage(target), "ENTRYPOINT");
      expect(entrypoints.at(-1), target).toBe('["/usr/bin/tini", "--", "node", "dist/cli.js"]');
      expect(args(lineage(target), "CMD").at(-1), target).toBe('["serve"]');
      expect(args(lineage(target), "RUN").join("\n"), target).toMatch(/install .*\btini\b/);
    }
    expect(all.filter((i) => i.keyword === "HEALTHCHECK")).toEqual([]);
    expect(text).not.toMatch(/\b(curl|wget)\b/);
  });

  it("github target: no git (nothing in its lineage installs it), no demo", () => {
    const runs = args(lineage("github"), "RUN").join("\n");
    expect(runs).not.toMatch(/\bgit\b/);
    // From the build stage only dist/ (compiled JS) comes over: no git binary.
    const fromOtherStages = args(lineage("github"), "COPY").filter((c) => c.startsWith("--from"));
    expect(fromOtherStages).toEqual(["--from=build /app/dist ./dist"]);
    expect(args(lineage("github"), "COPY").some((c) => c.includes("examples"))).toBe(false);
  });

  it("local target (the default): git, examples/ for the demo, its repository in /tmp", () => {
    const local = stage("local");
    expect(args(local, "RUN").join("\n")).toMatch(
      /apt-get install -y --no-install-recommends git\b/,
    );
    expect(args(local, "RUN").join("\n")).toContain("rm -rf /var/lib/apt/lists/*");
    expect(args(local, "COPY")).toContain("examples ./examples");
    expect(args(local, "ENV").join(" ")).toMatch(/\bDEMO_REPO=\/tmp\/demo-repo\b/);
  });

  it("runtime settings: production, port 8080, /app", () => {
    for (const target of ["github", "local"]) {
      const env = args(lineage(target), "ENV").join(" ");
      expect(env).toMatch(/\bNODE_ENV=production\b/);
      expect(env).toMatch(/\bPORT=8080\b/);
      expect(args(lineage(target), "EXPOSE")).toEqual(["8080"]);
      expect(args(lineage(target), "WORKDIR")).toEqual(["/app"]);
    }
  });

  it("both targets run as the numeric uid 1000, set after their last RUN", () => {
    for (const target of ["github", "local"]) {
      const body = lineage(target).flatMap((s) => s.body);
      const users = body.filter((i) => i.keyword === "USER").map((u) => u.args);
      expect(users, target).toEqual(["1000:1000"]);
      const userAt = body.findIndex((i) => i.keyword === "USER");
      expect(
        body.slice(userAt).some((i) => i.keyword === "RUN"),
        target,
      ).toBe(false);
    }
    expect(args(stage("build"), "USER")).toEqual([]);
    expect(args(stage("runtime-base"), "USER")).toEqual([]);
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
    for (const needed of ["src", "examples", "app.yml", "package.json", "package-lock.json"]) {
      expect(ignored, needed).not.toContain(needed);
    }
  });
});
