import { describe, expect, it } from "vitest";
import { buildSet, MAX_BUILD_FILES } from "../../../../src/domain/targets/flux/flux-build.js";
import {
  evaluateSubstitution,
  variablesIn,
  variableUses,
} from "../../../../src/domain/targets/flux/flux-vars.js";

const vars = new Map([
  ["APP", "sonarr"],
  ["EMPTY", ""],
]);

describe("Flux post-build substitution, as failover evaluates it", () => {
  it.each([
    ["${APP}", "sonarr"],
    ["pvc-${APP}", "pvc-sonarr"],
    ["${CLAIM:=${APP}}", "sonarr"],
    ["${CLAIM:=${APP}}-backup", "sonarr-backup"],
    ["${EMPTY:=x}", "x"],
    ["${EMPTY:-x}", "x"],
    ["${EMPTY=x}", ""],
    ["${UNSET=x}", "x"],
    ["$${APP}", "${APP}"],
    ["plain", "plain"],
  ])("%s -> %s", (value, expected) => {
    expect(evaluateSubstitution(value, vars)).toBe(expected);
  });

  it.each(["${UNSET}", "${APP", "${APP:?err}", "${CLAIM:=${UNSET}}"])(
    "%s cannot be told",
    (value) => {
      expect(evaluateSubstitution(value, vars)).toBeUndefined();
    },
  );

  it("finds every use of a variable, nested defaults included, not escapes or look-alikes", () => {
    const text = 'a: ${APP}\nb: "${CLAIM:=${APP}}"\nc: $${APP}\nd: ${APPLE}\ne: ${APP:-x}\n';
    expect(variableUses(text, "APP").map((at) => text.slice(at, at + 6))).toEqual([
      "${APP}",
      "${APP}",
      "${APP:",
    ]);
    expect(variablesIn("${CLAIM:=${APP}}-x")).toEqual(["CLAIM", "APP"]);
    // Flux's string functions read the variable too.
    for (const use of ["${APP,,}", "${APP^^}", "${APP:0:3}", "${#APP}", "${APP/a/b}", "${APP%x}"]) {
      expect(variableUses(use, "APP"), use).toEqual([0]);
    }
  });
});

describe("what a Flux Kustomization builds", () => {
  const tree = [
    "apps/sonarr/app/kustomization.yaml",
    "apps/sonarr/app/helmrelease.yaml",
    "apps/sonarr/app/sub/extra.yaml",
    "components/volsync/kustomization.yaml",
    "components/volsync/pvc.yaml",
    "shared/hpa.yaml",
    "other/unrelated.yaml",
  ];
  const texts = new Map<string, string | null>([
    [
      "apps/sonarr/app/kustomization.yaml",
      "resources: [./helmrelease.yaml, ../../../shared/hpa.yaml, https://example.com/x.yaml]\n",
    ],
    ["components/volsync/kustomization.yaml", "kind: Component\nresources: [pvc.yaml]\n"],
  ]);

  it("takes spec.path, spec.components and what kustomization files name, wherever; remote resources are hidden", () => {
    const build = buildSet("./apps/sonarr/app", ["../../../components/volsync"], tree, texts);
    // sub/extra.yaml is not named by app/kustomization.yaml: kustomize does not build it.
    expect(build.paths).toEqual([
      "apps/sonarr/app/helmrelease.yaml",
      "apps/sonarr/app/kustomization.yaml",
      "components/volsync/kustomization.yaml",
      "components/volsync/pvc.yaml",
      "shared/hpa.yaml",
    ]);
    expect(build.hidden).toEqual([
      "apps/sonarr/app/kustomization.yaml: remote resource https://example.com/x.yaml",
    ]);
    expect(build.unread).toEqual([
      "apps/sonarr/app/helmrelease.yaml",
      "components/volsync/pvc.yaml",
      "shared/hpa.yaml",
    ]);
  });

  it("a folder without a kustomization builds its YAML and each sub-folder; generator inputs count", () => {
    const t = [
      "a/x.yaml",
      "a/notes.md",
      "a/sub/kustomization.yaml",
      "a/sub/app.env",
      "a/sub/y.yaml",
    ];
    const k = new Map([
      ["a/sub/kustomization.yaml", "configMapGenerator: [{name: c, envs: [app.env]}]\n"],
    ]);
    expect(buildSet("./a", [], t, k).paths).toEqual([
      "a/sub/app.env",
      "a/sub/kustomization.yaml",
      "a/x.yaml",
    ]);
  });

  it("asks to read a kustomization file before following it", () => {
    const build = buildSet("./apps/sonarr/app", [], tree, new Map());
    expect(build.unread).toContain("apps/sonarr/app/kustomization.yaml");
    expect(build.paths).not.toContain("shared/hpa.yaml");
  });

  it("gives up on a build over the cap instead of reading it all", () => {
    const big = Array.from({ length: MAX_BUILD_FILES + 1 }, (_, i) => `apps/a${i}.yaml`);
    const build = buildSet("./", [], big, new Map());
    expect(build.paths).toEqual([]);
    expect(build.hidden).toEqual([`more than ${MAX_BUILD_FILES} files under ./`]);
  });
});
