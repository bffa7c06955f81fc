import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManifestRefusal } from "../../../../src/domain/errors.js";
import type { HelmReleaseTarget, Side } from "../../../../src/domain/service.js";
import {
  inspectTargets,
  type PlacedTarget,
  patchTargets,
  type TargetFiles,
} from "../../../../src/domain/targets/engine.js";
import { isPlainSafe } from "../../../../src/domain/yaml/render-scalar.js";
import { fuzzRuns } from "../../../helpers/fuzz-runs.js";
import { applied, changedLines, release } from "../shapes.js";

type Style = "plain" | "single" | "double";

function quote(value: string, style: Style): string {
  if (style === "single") return `'${value}'`;
  if (style === "double") return JSON.stringify(value);
  return value;
}

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/).filter(isPlainSafe);
const style = fc.constantFrom<Style>("plain", "single", "double");
const comment = fc.option(
  fc.stringMatching(/^[ -~]{0,24}$/).map((c) => `# ${c}`),
  { nil: undefined },
);

function withComment(text: string, trailing: string | undefined): string {
  return trailing === undefined ? text : `${text} ${trailing}`;
}

const controller = fc.record({
  name: fc.stringMatching(/^[a-z]{1,6}$/),
  selector: fc.constantFrom("none", "with-key", "other-key"),
  selectorStyle: style,
  affinity: fc.array(style, { maxLength: 2 }),
  note: comment,
});

const generated = fc
  .record({
    values: fc
      .uniqueArray(name, { minLength: 4, maxLength: 4 })
      .map(([pn = "a", bn = "b", pc = "c", bc = "d"]) => ({ pn, bn, pc, bc })),
    side: fc.constantFrom<Side>("primary", "backup"),
    strategy: fc.constantFrom("absent", "overwrite", "merge"),
    defaults: fc.option(style, { nil: undefined, freq: 4 }),
    controllers: fc.uniqueArray(controller, { maxLength: 3, selector: (c) => c.name }),
    claimStyle: style,
    nodeVariable: fc.boolean(),
    claimVariable: fc.boolean(),
    notes: fc.array(comment, { minLength: 6, maxLength: 6 }),
    imagePolicy: fc.boolean(),
    otherDocs: fc.array(name, { maxLength: 2 }),
    crlf: fc.boolean(),
    finalNewline: fc.boolean(),
  })
  .map((g) => {
    const { pn, bn, pc, bc } = g.values;
    const node = g.side === "primary" ? pn : bn;
    const claim = g.side === "primary" ? pc : bc;
    const nodeText = (s: Style) => (g.nodeVariable ? `"\${NODE}"` : quote(node, s));
    const claimText = g.claimVariable ? `\${CLAIM}` : quote(claim, g.claimStyle);
    const n = (i: number) => g.notes[i];
    const lines = [
      ...(n(0) === undefined ? [] : [n(0)]),
      "apiVersion: helm.toolkit.fluxcd.io/v2",
      "kind: HelmRelease",
      "metadata:",
      withComment("  name: app", n(1)),
      "spec:",
      "  interval: 30m",
      "  chart: {spec: {chart: app-template}}",
      "  values:",
      ...(g.strategy === "absent" ? [] : [`    defaultPodOptionsStrategy: ${g.strategy}`]),
      ...(g.defaults === undefined
        ? []
        : [
            "    defaultPodOptions:",
            "      nodeSelector:",
            "        kubernetes.io/arch: amd64",
            withComment(`        role: ${nodeText(g.defaults)}`, n(2)),
          ]),
      ...(g.controllers.length === 0 ? [] : ["    controllers:"]),
      ...g.controllers.flatMap((c) => [
        withComment(`      ${c.name}:`, c.note),
        ...(c.selector === "none" && c.affinity.length === 0 ? [] : ["        pod:"]),
        ...(c.selector === "none"
          ? []
          : [
              "          nodeSelector:",
              c.selector === "with-key"
                ? `            role: ${nodeText(c.selectorStyle)}`
                : "            zone: home",
            ]),
        ...(c.affinity.length === 0
          ? []
          : [
              "          affinity:",
              "            nodeAffinity:",
              "              requiredDuringSchedulingIgnoredDuringExecution:",
              "                nodeSelectorTerms:",
              "                  - matchExpressions:",
              `                      - {key: role, operator: In, values: [${c.affinity.map(nodeText).join(", ")}]}`,
            ]),
        "        containers:",
        "          app:",
        "            image:",
        withComment(
          "              tag: 1.2.3",
          g.imagePolicy ? '# {"$imagepolicy": "flux-system:app:tag"}' : undefined,
        ),
      ]),
      "    persistence:",
      "      data:",
      withComment(`        existingClaim: ${claimText}`, n(3)),
      "      tmp:",
      "        type: emptyDir",
    ];
    const docs = [
      ...g.otherDocs.map((d) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${d}`),
      lines.join("\n"),
    ];
    let text = `---\n${docs.join("\n---\n")}`;
    let ks = [
      "apiVersion: kustomize.toolkit.fluxcd.io/v1",
      "kind: Kustomization",
      "metadata:",
      "  name: app",
      "spec:",
      "  path: ./apps/app",
      "  postBuild:",
      "    substitute:",
      "      APP: app",
      withComment(`      NODE: ${node}`, n(4)),
      withComment(`      CLAIM: '${claim}'`, n(5)),
    ].join("\n");
    if (g.finalNewline) {
      text += "\n";
      ks += "\n";
    }
    if (g.crlf) {
      text = text.replace(/\n/g, "\r\n");
      ks = ks.replace(/\n/g, "\r\n");
    }
    const target: HelmReleaseTarget = {
      name: "app",
      persistence: "data",
      nodeLabelKey: "role",
      primary: { node: pn, claim: pc },
      backup: { node: bn, claim: bc },
    };
    const files: TargetFiles = {
      texts: new Map([
        ["apps/app/helmrelease.yaml", text],
        ["apps/ks.yaml", ks],
      ]),
      kustomizations: ["apps/ks.yaml"],
      tree: ["apps/app/helmrelease.yaml", "apps/ks.yaml"],
      originals: { service: "app", path: ".failover/originals/app.yaml" },
    };
    return { files, target, side: g.side };
  });

const other = (side: Side): Side => (side === "primary" ? "backup" : "primary");

describe("generated app-template HelmReleases", () => {
  it("there and back restores every file byte for byte, touching only value lines", () => {
    let patched = 0;
    const runs = fuzzRuns(300);
    fc.assert(
      fc.property(generated, ({ files, target, side }) => {
        const targets: PlacedTarget[] = [release("apps/app/helmrelease.yaml", target)];
        let state: string;
        try {
          state = inspectTargets(files, targets).state;
        } catch (error) {
          // Only a release with no placement in effect is refused.
          expect(error).toBeInstanceOf(ManifestRefusal);
          expect((error as Error).message).toMatch(
            /^no nodeSelector role or required nodeAffinity/,
          );
          return;
        }
        patched++;
        expect(state).toBe(side);
        const to = other(side);
        const there = patchTargets(files, targets, to);
        expect(there.files.length).toBeGreaterThan(0);
        for (const f of there.files.filter((e) => !e.path.startsWith(".failover/"))) {
          for (const c of changedLines(f.before.replace(/\r/g, ""), f.after.replace(/\r/g, ""))) {
            expect(c.after.includes(target[to].node) || c.after.includes(target[to].claim)).toBe(
              true,
            );
          }
        }
        const moved = applied(files, there);
        expect(patchTargets(moved, targets, to).files).toEqual([]);
        const back = applied(moved, patchTargets(moved, targets, side));
        for (const [path, text] of files.texts) expect(back.texts.get(path)).toBe(text);
      }),
      { numRuns: runs },
    );
    expect(patched).toBeGreaterThan(runs / 2);
  });
});
