import { describe, expect, it } from "vitest";
import { FailoverError } from "../../../../src/domain/errors.js";
import type { FieldTarget, TargetSpec, WorkloadTarget } from "../../../../src/domain/service.js";
import { inspectTargets, type PlacedTarget } from "../../../../src/domain/targets/engine.js";
import {
  formatFieldPath,
  locateField,
  parseFieldPath,
} from "../../../../src/domain/targets/field/field-locator.js";
import { changes, crlf, filesOf, refusal, release, roundTrip, shape } from "../shapes.js";

const GAMES = "generic/game-servers.yaml";
const JELLYFIN = "raw/jellyfin-affinity.yaml";

function field(path: string, target: FieldTarget): PlacedTarget {
  const spec: TargetSpec = { type: "field", path, target };
  return { spec, path };
}

describe("parseFieldPath", () => {
  it("reads dotted keys, indices and quoted keys", () => {
    expect(parseFieldPath("spec.values.nodeName")).toEqual([
      { key: "spec" },
      { key: "values" },
      { key: "nodeName" },
    ]);
    expect(parseFieldPath("spec.x[0].y")).toEqual([
      { key: "spec" },
      { key: "x" },
      { index: 0 },
      { key: "y" },
    ]);
    expect(parseFieldPath('a.b["k.e/y"]')).toEqual([{ key: "a" }, { key: "b" }, { key: "k.e/y" }]);
    expect(parseFieldPath("a['it''s'][12][3].b/c-d")).toEqual([
      { key: "a" },
      { key: "it's" },
      { index: 12 },
      { index: 3 },
      { key: "b/c-d" },
    ]);
    expect(parseFieldPath('["a.b"].c')).toEqual([{ key: "a.b" }, { key: "c" }]);
  });

  it("rejects malformed paths as configuration errors", () => {
    for (const bad of ["", "a..b", "a.", ".a", "a[x]", "a[01]", 'a["x]', "a b", "a]", "a[0]b"]) {
      let error: unknown;
      try {
        parseFieldPath(bad);
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(FailoverError);
      expect((error as FailoverError).code, bad).toBe("config_invalid");
    }
  });

  it("formats canonically, quoting keys with dots", () => {
    expect(formatFieldPath(parseFieldPath('spec.nodeSelector["kubernetes.io/hostname"]'))).toBe(
      'spec.nodeSelector["kubernetes.io/hostname"]',
    );
    expect(formatFieldPath(parseFieldPath("spec['x'][0].y"))).toBe("spec.x[0].y");
  });
});

describe("generic field targets (custom resources)", () => {
  const minecraft: FieldTarget = {
    document: { kind: "GameServer", name: "minecraft" },
    field: "spec.nodeName",
    primary: "node-a",
    backup: "node-b",
  };

  it("edits only the selected document's value, keeping its comment", () => {
    const patch = roundTrip(filesOf([GAMES]), [field(GAMES, minecraft)]);
    expect(changes(patch)).toEqual({
      [GAMES]: [
        {
          line: 9,
          before: "  nodeName: node-a # pinned: the world lives on this node's disk",
          after: "  nodeName: node-b # pinned: the world lives on this node's disk",
        },
      ],
    });
    expect(patch.files[0]?.edits).toEqual([
      { file: GAMES, field: "spec.nodeName", from: "node-a", to: "node-b", line: 9 },
    ]);
  });

  it("follows list indices and quoted keys, combining several targets in one file", () => {
    const targets = [
      field(GAMES, minecraft),
      field(GAMES, {
        document: { name: "minecraft" },
        field: "spec.storage[0].claim",
        primary: "minecraft-world",
        backup: "minecraft-world-b",
      }),
      field(GAMES, {
        document: { kind: "VirtualMachine" },
        field: 'spec.template.spec.nodeSelector["kubernetes.io/hostname"]',
        primary: "node-a",
        backup: "node-b",
      }),
      field(GAMES, {
        document: { kind: "VirtualMachine" },
        field: "spec.template.spec.volumes[0].persistentVolumeClaim.claimName",
        primary: "haos-root",
        backup: "haos-root-b",
      }),
    ];
    const patch = roundTrip(filesOf([GAMES]), targets);
    expect(changes(patch)[GAMES]?.map((c) => [c.line, c.after])).toEqual([
      [9, "  nodeName: node-b # pinned: the world lives on this node's disk"],
      [15, '      claim: "minecraft-world-b"'],
      [38, "        kubernetes.io/hostname: node-b"],
      [42, "            claimName: haos-root-b"],
    ]);
  });

  it("works on CRLF text", () => {
    const files = filesOf([GAMES], [], { [GAMES]: crlf(shape(GAMES)) });
    const patch = roundTrip(files, [field(GAMES, minecraft)]);
    expect(patch.files[0]?.after).toContain("  nodeName: node-b # pinned");
  });

  it(`resolves a \${VAR} value through the Flux Kustomization`, () => {
    const text = `apiVersion: x/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n  node: \${NODE}\n`;
    const ks = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: t, namespace: flux-system}
spec:
  path: ./apps/t
  postBuild:
    substitute: {NODE: node-a}
`;
    const files = filesOf(["apps/t/thing.yaml"], ["apps/t/ks.yaml"], {
      "apps/t/thing.yaml": text,
      "apps/t/ks.yaml": ks,
    });
    const target = field("apps/t/thing.yaml", {
      field: "spec.node",
      primary: "node-a",
      backup: "node-b",
    });
    const patch = roundTrip(files, [target]);
    expect(patch.files.map((f) => f.path)).toEqual(["apps/t/ks.yaml"]);
    expect(patch.files[0]?.after).toContain("substitute: {NODE: node-b}");
  });

  it("combines with other target types across files (a raw Deployment pinned by affinity only)", () => {
    const jellyfin: WorkloadTarget = {
      name: "jellyfin",
      namespace: "media",
      volumeName: "config",
      nodeLabelKey: "role",
      primary: { claim: "pvc-jellyfin", node: "primary" },
      backup: { claim: "pvc-jellyfin-backup", node: "backup" },
    };
    const targets: PlacedTarget[] = [
      { spec: { type: "workload", path: JELLYFIN, workload: jellyfin }, path: JELLYFIN },
      field(GAMES, minecraft),
    ];
    const patch = roundTrip(filesOf([JELLYFIN, GAMES]), targets);
    expect(changes(patch)[JELLYFIN]).toEqual([
      {
        line: 23,
        before: "                  - {key: role, operator: In, values: [primary]}",
        after: "                  - {key: role, operator: In, values: [backup]}",
      },
      {
        line: 32,
        before: "            claimName: pvc-jellyfin",
        after: "            claimName: pvc-jellyfin-backup",
      },
    ]);
    expect(changes(patch)[GAMES]?.map((c) => c.line)).toEqual([9]);
  });
});

describe("field target refusals name the file and the field", () => {
  it("refuses an ambiguous document", () => {
    const error = refusal(filesOf([GAMES]), [
      field(GAMES, { field: "spec.nodeName", primary: "node-a", backup: "node-b" }),
    ]);
    expect(error.message).toBe(
      `3 documents in ${GAMES} match (the target names no document) (GameServer games/minecraft, GameServer games/factorio, VirtualMachine vms/homeassistant); set the target's document kind and name so exactly one matches.`,
    );
    const byKind = refusal(filesOf([GAMES]), [
      field(GAMES, {
        document: { kind: "GameServer" },
        field: "spec.nodeName",
        primary: "node-a",
        backup: "node-b",
      }),
    ]);
    expect(byKind.message).toMatch(
      /^2 documents in generic\/game-servers\.yaml match kind GameServer/,
    );
  });

  it("refuses a document that is not there", () => {
    const error = refusal(filesOf([GAMES]), [
      field(GAMES, {
        document: { kind: "GameServer", name: "valheim" },
        field: "spec.nodeName",
        primary: "a",
        backup: "b",
      }),
    ]);
    expect(error.message).toBe(
      `no document with kind GameServer, name valheim in ${GAMES} (documents: GameServer games/minecraft, GameServer games/factorio, VirtualMachine vms/homeassistant): check the target's path and document.`,
    );
  });

  it("refuses a missing path, saying what is there", () => {
    const target = (f: string) =>
      field(GAMES, { document: { name: "factorio" }, field: f, primary: "a", backup: "b" });
    expect(refusal(filesOf([GAMES]), [target("spec.nodeSelector.role")]).message).toBe(
      `${GAMES}: GameServer games/factorio has no spec.nodeSelector.role (spec has no key "nodeSelector"; keys: nodeName, storage). Check the target's field, or add spec.nodeSelector.role: a.`,
    );
    expect(refusal(filesOf([GAMES]), [target("spec.storage[3].claim")]).message).toContain(
      "(spec.storage has 1 item)",
    );
    expect(refusal(filesOf([GAMES]), [target("spec.storage.claim")]).message).toContain(
      `${GAMES}: spec.storage is not a mapping`,
    );
  });

  it("refuses templates, aliases and non-strings at the field", () => {
    const doc = (value: string) =>
      `apiVersion: x/v1\nkind: Thing\nmetadata:\n  name: t\nanchors:\n  n: &n node-a\nspec:\n  node: ${value}\n`;
    const t: FieldTarget = { field: "spec.node", primary: "node-a", backup: "node-b" };
    expect(() => locateField(doc('"{{ .Values.node }}"'), "f.yaml", t)).toThrow(
      /^f\.yaml: spec\.node is a Helm template \("\{\{ \.Values\.node \}\}"\); failover evaluates \{\{ \.Release\.Name \}\} \(with text around it\) in a HelmRelease only, and cannot tell what this renders to\. Configure a literal value here, or point a "field" target/,
    );
    expect(() => locateField(doc("*n"), "f.yaml", t)).toThrow(
      "f.yaml: spec.node is a YAML alias (*n); failover edits literal values only. Write the literal value in place.",
    );
    expect(() => locateField(doc("12"), "f.yaml", t)).toThrow(
      /spec\.node is a number, not a string/,
    );
    // Text around a variable is evaluated later, with the Flux Kustomization's variables.
    expect(locateField(doc(`node-\${X}`), "f.yaml", t).substitutions).toMatchObject([
      { variable: "X", exact: false, field: "spec.node" },
    ]);
  });

  it("does not mix with a HelmRelease target that edits the same scalar differently", () => {
    const hr = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: a}
spec:
  chart: {spec: {chart: app-template}}
  values:
    defaultPodOptions: {nodeSelector: {role: primary}}
    persistence: {data: {existingClaim: pvc-a}}
`;
    const files = filesOf(["a.yaml"], [], { "a.yaml": hr });
    const targets = [
      release("a.yaml", {
        name: "a",
        persistence: "data",
        nodeLabelKey: "role",
        primary: { claim: "pvc-a", node: "primary" },
        backup: { claim: "pvc-b", node: "backup" },
      }),
      field("a.yaml", {
        field: "spec.values.defaultPodOptions.nodeSelector.role",
        primary: "primary",
        backup: "standby",
      }),
    ];
    expect(() => inspectTargets(files, targets)).toThrow(
      /used by two targets with different values/,
    );
  });
});
