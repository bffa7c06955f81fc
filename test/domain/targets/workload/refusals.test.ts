import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ManifestRefusal } from "../../../../src/domain/errors.js";
import type { WorkloadTarget } from "../../../../src/domain/service.js";
import { SONARR_TARGET } from "../../../helpers/targets.js";
import { refusal as engineRefusal } from "../shapes.js";
import { inspect, patch, placed, workloadFiles } from "./one-workload.js";

const target = SONARR_TARGET;

function fixture(name: string): string {
  return readFileSync(new URL(`../../../fixtures/manifests/${name}`, import.meta.url), "utf8");
}

const seed = fixture("seed-deployment.yaml");

/** The refusal both inspecting and patching through the engine throw for `text`. */
function refusal(text: string, t: WorkloadTarget = target): ManifestRefusal {
  const error = engineRefusal(workloadFiles(text, "apps/f.yaml", t), placed(t, "apps/f.yaml"));
  expect(error.code).toBe("refused");
  expect(error.message).toContain("apps/f.yaml");
  return error;
}

const CLAIM = "spec.template.spec.volumes[0].persistentVolumeClaim.claimName";
const ROLE = "spec.template.spec.nodeSelector.role";

describe("unparseable input", () => {
  it("refuses input over 1 MiB", () => {
    const big = `${seed}#${"x".repeat(1024 * 1024)}\n`;
    expect(refusal(big).message).toMatch(/larger than 1048576 bytes/);
  });

  it("counts bytes, not characters", () => {
    const big = `${seed}#${"é".repeat(600 * 1024)}\n`;
    expect(big.length).toBeLessThan(1024 * 1024);
    expect(refusal(big).message).toMatch(/larger than/);
  });

  it("refuses a syntax error in any document, even one that is not the target", () => {
    const text = `${seed}---\nkind: ConfigMap\ndata: [unclosed\n`;
    expect(refusal(text).message).toMatch(/^apps\/f.yaml is not valid YAML: document 2: /);
  });

  it("refuses duplicate keys", () => {
    const text = seed.replace(
      "        role: primary\n",
      "        role: primary\n        role: backup\n",
    );
    expect(refusal(text).message).toMatch(/not valid YAML: document 1: DUPLICATE_KEY/);
  });

  it("turns deep nesting into a refusal that names the depth, never a crash", () => {
    // Each of these, composed twice in one process, used to kill it (see nesting-depth.ts).
    const deep = [
      `a: ${"[".repeat(20_000)}${"]".repeat(20_000)}`,
      "[".repeat(20_000),
      `${seed}---\nx: ${"{a: ".repeat(101)}1${"}".repeat(101)}\n`,
    ];
    // Block collections nest by indentation: measured on the parsed tokens, not while lexing.
    const block = Array.from({ length: 150 }, (_, i) => `${"  ".repeat(i)}k${i}:`).join("\n");
    for (const text of ["[".repeat(200_000), `${block} 1\n`, ...deep, ...deep]) {
      expect(() => inspect(text, target, "apps/f.yaml")).toThrow(
        /^apps\/f\.yaml nests collections \d+ levels deep, more than 100; failover refuses to parse it/,
      );
    }
  });

  it("accepts nesting up to the limit", () => {
    const deep = (n: number) =>
      `${seed}---\nkind: ConfigMap\nx: ${"[".repeat(n)}1${"]".repeat(n)}\n`;
    // The ConfigMap's mapping is one level: 99 flow levels inside it make 100.
    expect(() => inspect(deep(99), target, "apps/f.yaml")).not.toThrow();
    expect(() => inspect(deep(100), target, "apps/f.yaml")).toThrow(/101 levels deep/);
  });
});

describe("finding the workload", () => {
  it("refuses when nothing matches", () => {
    expect(
      refusal(seed.replace("name: sonarr\n  namespace", "name: other\n  namespace")).message,
    ).toBe(
      "no Deployment/StatefulSet named sonarr in apps/f.yaml (namespace media): check the service's manifest path and its target kind, name and namespace.",
    );
    expect(refusal(seed.replace("namespace: media", "namespace: tv")).message).toMatch(/^no /);
    expect(refusal("").message).toMatch(/^no /);
  });

  it("refuses more than one match", () => {
    expect(refusal(`${seed}---\n${seed}`).message).toMatch(
      /^2 documents in apps\/f.yaml declare Deployment\/StatefulSet named sonarr/,
    );
  });

  it("refuses a workload without a pod template", () => {
    const text = "kind: Deployment\nmetadata:\n  name: sonarr\nspec:\n  replicas: 1\n";
    expect(refusal(text).message).toContain("has no spec.template.spec");
  });
});

describe("node placement", () => {
  it("refuses a workload with neither nodeSelector nor required nodeAffinity on the key", () => {
    const text = seed.replace("      nodeSelector:\n        role: primary\n", "");
    expect(refusal(text).message).toBe(
      "no nodeSelector role or required nodeAffinity on role in apps/f.yaml (Deployment sonarr): add `nodeSelector: {role: primary}` to spec.template.spec.",
    );
    const otherKey = seed.replace("role: primary", "zone: primary");
    expect(refusal(otherKey).message).toMatch(/^no nodeSelector role/);
  });

  it("refuses operators other than In on the key", () => {
    const text = fixture("node-affinity-only.yaml").replace(
      "operator: In\n                    values:\n",
      "operator: NotIn\n                    values:\n",
    );
    expect(refusal(text).message).toContain(
      "matchExpressions[1].operator is NotIn on role; failover can only rewrite required nodeAffinity expressions with operator In",
    );
  });

  it("refuses an In expression without values", () => {
    const text = fixture("node-affinity-only.yaml").replace('values: ["primary"]', "values: []");
    expect(refusal(text).message).toContain("matchExpressions[0].values is empty");
  });
});

describe("the claim", () => {
  it("lists the volumes that exist when the named one is missing", () => {
    const text = seed.replace(
      "        - name: sonarr-data\n          persistentVolumeClaim",
      "        - name: config\n          persistentVolumeClaim",
    );
    expect(refusal(text).message).toBe(
      "apps/f.yaml: spec.template.spec.volumes has no volume named sonarr-data (volumes: config). Set the service's volume name to one of them, or add the volume.",
    );
    const none = seed.slice(0, seed.indexOf("      volumes:"));
    expect(refusal(none).message).toContain("(volumes: none)");
  });

  it("refuses a volume that is not a persistentVolumeClaim", () => {
    const text = seed.replace(
      "          persistentVolumeClaim:\n            claimName: pvc-sonarr\n",
      "          emptyDir: {}\n",
    );
    expect(refusal(text).message).toContain(
      "volume sonarr-data (spec.template.spec.volumes[0]) is not a persistentVolumeClaim volume",
    );
  });

  it("refuses a missing claimName and duplicate volumes", () => {
    expect(refusal(seed.replace("claimName: pvc-sonarr", "readOnly: true")).message).toContain(
      `${CLAIM} is missing`,
    );
    const dup = `${seed}        - name: sonarr-data\n          emptyDir: {}\n`;
    expect(refusal(dup).message).toContain("declares volume sonarr-data more than once");
  });

  it("refuses StatefulSet volumeClaimTemplates", () => {
    expect(refusal(fixture("statefulset-claim-template.yaml")).message).toBe(
      "apps/f.yaml: StatefulSet sonarr gets volume sonarr-data from spec.volumeClaimTemplates, which Kubernetes does not allow to change in place. Use a plain volume in spec.template.spec.volumes with persistentVolumeClaim.claimName pointing at an existing claim.",
    );
  });
});

describe("values failover cannot rewrite", () => {
  const cases: [string, string, string, RegExp][] = [
    [
      "Flux ${VAR} that no Flux Kustomization defines",
      "claimName: pvc-sonarr",
      `claimName: $\{CLAIM}`,
      /is \$\{CLAIM\}, but CLAIM is not defined in spec\.postBuild\.substitute .*Define it there/,
    ],
    ["Flux $VAR", "claimName: pvc-sonarr", "claimName: pvc-$APP", /templated.*\(pvc-\$APP\)/],
    ["Helm", "claimName: pvc-sonarr", 'claimName: "{{ .Release.Name }}"', /templated/],
    ["a number", "claimName: pvc-sonarr", "claimName: 123", /is a number, not a string \(123\)/],
    ["a boolean", "role: primary", "role: true", /is a boolean, not a string \(true\)/],
    ["null", "role: primary", "role: null", /is a null, not a string \(null\)/],
    ["empty", "role: primary", "role:", /is a null, not a string/],
    ["a tag", "role: primary", "role: !custom primary", /tagged !custom/],
    ["a block scalar", "role: primary", "role: |\n          primary", /is a block scalar/],
    [
      "a folded scalar",
      "claimName: pvc-sonarr",
      "claimName: >-\n              pvc-sonarr",
      /block scalar/,
    ],
    ["an anchor", "role: primary", "role: &r primary", /is anchored \(&r\)/],
    ["a map", "role: primary", "role: {a: b}", /is not a scalar/],
  ];
  for (const [name, from, to, pattern] of cases) {
    it(`refuses ${name}`, () => {
      const message = refusal(seed.replace(from, to)).message;
      expect(message).toMatch(pattern);
      expect(message).toContain(from.startsWith("role") ? ROLE : CLAIM);
    });
  }

  it("accepts an explicit !!str tag and keeps it", () => {
    const text = seed.replace("role: primary", "role: !!str primary");
    expect(patch(text, target, "backup", "f.yaml").text).toContain("role: !!str backup");
  });

  it("refuses an alias", () => {
    const text = seed
      .replace("app: sonarr\nspec:", "app: &node primary\nspec:")
      .replace("role: primary", "role: *node");
    expect(refusal(text).message).toBe(
      `apps/f.yaml: ${ROLE} is a YAML alias (*node); failover edits literal values only. Write the literal value in place.`,
    );
  });

  it("refuses anchors and merge keys on the way to a value", () => {
    const anchored = seed.replace("      nodeSelector:\n", "      nodeSelector: &sel\n");
    expect(refusal(anchored).message).toContain(
      "spec.template.spec.nodeSelector carries the YAML anchor &sel",
    );
    const merged = seed.replace(
      "        role: primary\n",
      "        role: primary\n        <<: {zone: a}\n",
    );
    expect(refusal(merged).message).toContain(
      "spec.template.spec.nodeSelector uses a YAML merge key",
    );
    const aliasedSpec = `${seed}---\nkind: Deployment\nmetadata: {name: x}\nspec: &s {}\n`;
    expect(inspect(aliasedSpec, target, "f.yaml").state).toBe("primary");
  });

  it("refuses a pod spec that is an alias", () => {
    const text = `x: &pod {nodeSelector: {role: primary}}\nkind: Deployment\nmetadata: {name: sonarr}\nspec:\n  template:\n    spec: *pod\n`;
    expect(refusal(text).message).toContain("spec.template.spec is a YAML alias (*pod)");
  });
});
