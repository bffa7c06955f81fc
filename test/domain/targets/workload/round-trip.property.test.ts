import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Side, WorkloadTarget } from "../../../../src/domain/service.js";
import { isPlainSafe } from "../../../../src/domain/yaml/render-scalar.js";
import { fuzzRuns } from "../../../helpers/fuzz-runs.js";
import { inspect, observed, patch } from "./one-workload.js";

type Style = "plain" | "single" | "double";

function hasControl(s: string): boolean {
  return [...s].some((ch) => {
    const c = ch.codePointAt(0) ?? 0;
    return c < 0x20 || (c >= 0x7f && c <= 0x9f);
  });
}

interface Manifest {
  readonly text: string;
  readonly target: WorkloadTarget;
  readonly side: Side;
}

function quote(value: string, style: Style): string {
  if (style === "single") return `'${value.replace(/'/g, "''")}'`;
  if (style === "double") return JSON.stringify(value);
  return value;
}

/** Names that stay plain both ways (`on`, `no`, `e1` would be quoted once rewritten). */
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/).filter(isPlainSafe);
const style = fc.constantFrom<Style>("plain", "single", "double");
const comment = fc.stringMatching(/^[ -~]{0,30}$/).map((c) => `# ${c}`);
const maybeComment = fc.option(comment, { nil: undefined });
const extraKeys = fc.uniqueArray(fc.stringMatching(/^[a-z]{1,8}$/), { maxLength: 3 });

/** A line with an optional trailing comment. */
function line(text: string, trailing: string | undefined): string {
  return trailing === undefined ? text : `${text} ${trailing}`;
}

const otherDoc = fc
  .record({ keys: extraKeys, note: maybeComment, value: name })
  .map(({ keys, note, value }) =>
    [
      ...(note === undefined ? [] : [note]),
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata:",
      `  name: ${value}`,
      "data:",
      ...keys.map((k) => `  x-${k}: "${k}"`),
      ...(keys.length === 0 ? ["  empty: ''"] : []),
    ].join("\n"),
  );

const workload = fc.record({
  values: fc
    .uniqueArray(name, { minLength: 4, maxLength: 4 })
    .map(([pn = "a", bn = "b", pc = "c", bc = "d"]) => ({ pn, bn, pc, bc })),
  side: fc.constantFrom<Side>("primary", "backup"),
  kind: fc.constantFrom("Deployment", "StatefulSet"),
  selectorStyle: fc.option(style, { nil: undefined }),
  affinityStyles: fc.array(style, { maxLength: 3 }),
  claimStyle: style,
  flowVolume: fc.boolean(),
  comments: fc.array(maybeComment, { minLength: 12, maxLength: 12 }),
  keys: extraKeys,
  otherVolumes: fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}$/), { maxLength: 2 }),
});

const manifest: fc.Arbitrary<Manifest> = fc
  .record({
    w: workload,
    before: fc.array(otherDoc, { maxLength: 2 }),
    after: fc.array(otherDoc, { maxLength: 2 }),
    crlf: fc.boolean(),
    leadingMarker: fc.boolean(),
    endMarkers: fc.boolean(),
    finalNewline: fc.boolean(),
    trailingSpaces: fc.boolean(),
  })
  .map(({ w, before, after, crlf, leadingMarker, endMarkers, finalNewline, trailingSpaces }) => {
    const { pn, bn, pc, bc } = w.values;
    const node = w.side === "primary" ? pn : bn;
    const claim = w.side === "primary" ? pc : bc;
    const c = (i: number) => w.comments[i];
    const pad = trailingSpaces ? "  " : "";
    const styles =
      w.selectorStyle === undefined && w.affinityStyles.length === 0
        ? { selector: "plain" as Style, affinity: [] }
        : { selector: w.selectorStyle, affinity: w.affinityStyles };
    const lines = [
      ...(c(0) === undefined ? [] : [c(0)]),
      "apiVersion: apps/v1",
      line(`kind: ${w.kind}`, c(1)),
      "metadata:",
      "  name: app",
      ...w.keys.map((k) => line(`  x-${k}: ${k}`, c(2))),
      "spec:",
      "  template:",
      line("    spec:", c(3)),
      ...(c(4) === undefined ? [] : [`      ${c(4)}`]),
      ...(styles.selector === undefined
        ? []
        : [
            "      nodeSelector:",
            line(`        role: ${quote(node, styles.selector)}${pad}`, c(5)),
          ]),
      ...(styles.affinity.length === 0
        ? []
        : [
            "      affinity:",
            "        nodeAffinity:",
            "          requiredDuringSchedulingIgnoredDuringExecution:",
            line("            nodeSelectorTerms:", c(6)),
            "              - matchExpressions:",
            "                  - key: role",
            "                    operator: In",
            `                    values: [${styles.affinity.map((s) => quote(node, s)).join(", ")}]`,
          ]),
      ...w.keys.map((k) => `      x-${k}: [${k}]`),
      line("      volumes:", c(7)),
      ...w.otherVolumes.map((v) => line(`        - {name: x-${v}, emptyDir: {}}`, c(8))),
      ...(w.flowVolume
        ? [
            line(
              `        - {name: data, persistentVolumeClaim: {claimName: ${quote(claim, w.claimStyle)}}}`,
              c(9),
            ),
          ]
        : [
            "        - name: data",
            ...(c(10) === undefined ? [] : [`          ${c(10)}`]),
            "          persistentVolumeClaim:",
            line(`            claimName: ${quote(claim, w.claimStyle)}${pad}`, c(11)),
          ]),
    ];
    const docs = [...before, lines.join("\n"), ...after];
    let text = (leadingMarker ? "---\n" : "") + docs.join(endMarkers ? "\n...\n---\n" : "\n---\n");
    if (finalNewline) text += "\n";
    if (crlf) text = text.replace(/\n/g, "\r\n");
    const target: WorkloadTarget = {
      name: "app",
      volumeName: "data",
      nodeLabelKey: "role",
      primary: { node: pn, claim: pc },
      backup: { node: bn, claim: bc },
    };
    return { text, target, side: w.side };
  });

const other = (side: Side): Side => (side === "primary" ? "backup" : "primary");

describe("patching generated manifests", () => {
  it("there and back restores the original bytes, and a second patch is a no-op", () => {
    fc.assert(
      fc.property(manifest, ({ text, target, side }) => {
        expect(inspect(text, target, "g.yaml").state).toBe(side);
        const there = patch(text, target, other(side), "g.yaml");
        expect(there.changed).toBe(true);
        expect(there.text.split(/\r?\n/).length).toBe(text.split(/\r?\n/).length);
        const again = patch(there.text, target, other(side), "g.yaml");
        expect(again.changed).toBe(false);
        expect(again.text).toBe(there.text);
        const back = patch(there.text, target, side, "g.yaml");
        expect(back.text).toBe(text);
        expect(patch(text, target, side, "g.yaml").text).toBe(text);
      }),
      { numRuns: fuzzRuns(300) },
    );
  });

  it("quoted values of any printable text round-trip and land on the requested side", () => {
    const value = fc
      .string({ minLength: 1, maxLength: 12, unit: "grapheme" })
      .filter((s) => !/[$\u2028\u2029\ufeff]|\{\{|\}\}/.test(s) && !hasControl(s));
    fc.assert(
      fc.property(
        fc.uniqueArray(value, { minLength: 2, maxLength: 2 }),
        fc.constantFrom<Style>("single", "double"),
        ([primary = "a", backup = "b"], s) => {
          const target: WorkloadTarget = {
            name: "app",
            volumeName: "data",
            nodeLabelKey: "role",
            primary: { node: primary, claim: "c1" },
            backup: { node: backup, claim: "c2" },
          };
          const text = `kind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n      nodeSelector: {role: ${quote(primary, s)}}\n      volumes: [{name: data, persistentVolumeClaim: {claimName: c1}}]\n`;
          const there = patch(text, target, "backup", "q.yaml");
          expect(observed(inspect(there.text, target, "q.yaml"), "node")).toEqual([backup]);
          expect(patch(there.text, target, "primary", "q.yaml").text).toBe(text);
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
  });

  it("plain values that need quoting get double quotes and still read back exactly", () => {
    const value = fc.oneof(
      fc.constantFrom(
        "yes",
        "no",
        "on",
        "off",
        "y",
        "N",
        "true",
        "null",
        "~",
        "1.0",
        "0777",
        "1e3",
      ),
      fc.constantFrom(
        "2024-01-01",
        "a: b",
        "a #b",
        "-",
        "[x]",
        "x,y",
        "'q'",
        "*a",
        "&a",
        "!t",
        "%",
      ),
    );
    fc.assert(
      fc.property(value, (backup) => {
        const target: WorkloadTarget = {
          name: "app",
          volumeName: "data",
          nodeLabelKey: "role",
          primary: { node: "primary", claim: "c1" },
          backup: { node: backup, claim: "c2" },
        };
        const text = `kind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n      nodeSelector: {role: primary}\n      volumes: [{name: data, persistentVolumeClaim: {claimName: c1}}]\n`;
        const there = patch(text, target, "backup", "q.yaml");
        expect(there.text).toContain(`{role: ${JSON.stringify(backup)}}`);
        expect(inspect(there.text, target, "q.yaml").state).toBe("backup");
      }),
      { numRuns: fuzzRuns(100) },
    );
  });
});
