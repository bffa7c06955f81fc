import { readFileSync } from "node:fs";
import { join } from "node:path";
import { structuredPatch } from "diff";
import { describe, expect, it } from "vitest";
import { planFailover } from "../../../../src/domain/plan.js";
import type { ServiceSpec, WorkloadTarget } from "../../../../src/domain/service.js";
import { hasSharedFixture, SHARED_FIXTURE, SHARED_NOTE } from "../../../helpers/shared-fixture.js";
import { SONARR_TARGET } from "../../../helpers/targets.js";
import { inspect, observed, patch, placed, workloadFiles } from "./one-workload.js";

const target = SONARR_TARGET;

const ROLE = "spec.template.spec.nodeSelector.role";
const CLAIM = "spec.template.spec.volumes[0].persistentVolumeClaim.claimName";

function fixture(name: string): string {
  return readFileSync(new URL(`../../../fixtures/manifests/${name}`, import.meta.url), "utf8");
}

/** 1-based line numbers of the input that a unified line diff removes or replaces. */
function changedLines(before: string, after: string): number[] {
  const patch = structuredPatch("a", "b", before, after, undefined, undefined, { context: 0 });
  const lines: number[] = [];
  for (const hunk of patch.hunks) {
    let old = hunk.oldStart;
    for (const line of hunk.lines) {
      if (line.startsWith("-")) lines.push(old++);
      else if (!line.startsWith("+")) old++;
    }
  }
  return lines;
}

describe.skipIf(!hasSharedFixture)(`the real seed manifest, read in place${SHARED_NOTE}`, () => {
  const path = join(SHARED_FIXTURE, "clusters/homelab/apps/media/sonarr/deployment.yaml");
  const text = hasSharedFixture ? readFileSync(path, "utf8") : "";

  it("is on primary; RollingUpdate is no Multi-Attach risk (the pod moves to another claim)", () => {
    const file = "apps/sonarr/deployment.yaml";
    expect(inspect(text, target, file)).toEqual({
      state: "primary",
      observed: [
        { file, field: ROLE, role: "node", value: "primary" },
        { file, field: CLAIM, role: "claim", value: "pvc-sonarr" },
      ],
      warnings: [],
      promoteWarnings: [],
    });
  });

  it("promotes by changing exactly the two lines, and demotes back to the same bytes", () => {
    const promoted = patch(text, target, "backup", "apps/sonarr/deployment.yaml");
    expect(promoted.changed).toBe(true);
    const file = "apps/sonarr/deployment.yaml";
    expect(promoted.edits).toEqual([
      { file, field: ROLE, from: "primary", to: "backup", line: 19 },
      {
        file,
        field: CLAIM,
        from: "pvc-sonarr",
        to: "pvc-sonarr-backup",
        line: 71,
      },
    ]);
    expect(changedLines(text, promoted.text)).toEqual([19, 71]);
    expect(promoted.text).toBe(
      text
        .replace("        role: primary\n", "        role: backup\n")
        .replace("claimName: pvc-sonarr\n", "claimName: pvc-sonarr-backup\n"),
    );
    expect(promoted.before.warnings).toEqual([]);
    const demoted = patch(promoted.text, target, "primary", "x.yaml");
    expect(demoted.before.state).toBe("backup");
    expect(demoted.text).toBe(text);
  });
});

describe("seed-shaped fixture", () => {
  const text = fixture("seed-deployment.yaml");

  it("gives the exact promoted text", () => {
    const result = patch(text, target, "backup", "f.yaml");
    expect(result.text).toBe(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: sonarr
  namespace: media
  labels:
    app: sonarr
spec:
  replicas: 1
  selector:
    matchLabels:
      app: sonarr
  template:
    metadata:
      labels:
        app: sonarr
    spec:
      nodeSelector:
        role: backup
      containers:
        - name: sonarr
          image: linuxserver/sonarr:4.0.16
          ports:
            - containerPort: 8989
              name: http
          volumeMounts:
            - name: sonarr-data
              mountPath: /config
      volumes:
        - name: sonarr-data
          persistentVolumeClaim:
            claimName: pvc-sonarr-backup
`);
  });

  it("changes no file when already on the requested side", () => {
    const result = patch(text, target, "primary", "f.yaml");
    expect(result.changed).toBe(false);
    expect(result.edits).toEqual([]);
    expect(result.before.state).toBe("primary");
  });

  it("plans a promote and a demote the way the use case does: one file, a two-line diff, bytes restored", () => {
    const file = "apps/sonarr/deployment.yaml";
    const spec: ServiceSpec = {
      name: "sonarr",
      namespace: "media",
      nodes: { primary: "primary", backup: "backup" },
      targets: [{ type: "workload", path: file, workload: target }],
    };
    const input = { spec, targets: placed(target, file), siblings: [] };
    const promote = planFailover({ ...input, files: workloadFiles(text, file, target) }, "promote");
    expect(promote).toMatchObject({ from: "primary", to: "backup", changed: true, paths: [file] });
    expect(promote.files.map((f) => f.path)).toEqual([file]);
    expect(promote.diff.split("\n").filter((l) => /^[-+][^-+]/.test(l))).toEqual([
      "-        role: primary",
      "+        role: backup",
      "-            claimName: pvc-sonarr",
      "+            claimName: pvc-sonarr-backup",
    ]);
    const promoted = promote.files[0]?.after ?? "";
    const again = planFailover(
      { ...input, files: workloadFiles(promoted, file, target) },
      "promote",
    );
    expect(again).toMatchObject({ from: "backup", changed: false, files: [], diff: "" });
    const demote = planFailover(
      { ...input, files: workloadFiles(promoted, file, target) },
      "demote",
    );
    expect(demote).toMatchObject({ from: "backup", to: "primary", changed: true });
    expect(demote.files[0]?.after).toBe(text);
  });

  it("keeps CRLF line endings, a BOM and a missing final newline", () => {
    const crlf = `\uFEFF${text.replace(/\n/g, "\r\n").replace(/\r\n$/, "")}`;
    const result = patch(crlf, target, "backup", "f.yaml");
    const expected = `\uFEFF${patch(text, target, "backup", "f.yaml")
      .text.replace(/\n/g, "\r\n")
      .replace(/\r\n$/, "")}`;
    expect(result.text).toBe(expected);
    expect(result.text.endsWith("claimName: pvc-sonarr-backup")).toBe(true);
    expect(result.edits.map((e) => e.line)).toEqual([19, 32]);
    expect(patch(result.text, target, "primary", "f.yaml").text).toBe(crlf);
  });

  it("keeps trailing whitespace after values", () => {
    const spaced = text.replace("role: primary\n", "role: primary   \n");
    const result = patch(spaced, target, "backup", "f.yaml");
    expect(result.text).toContain("role: backup   \n");
  });

  it("matches a target without namespace, and a document without namespace", () => {
    const { namespace: _ns, ...noNamespace } = target;
    expect(inspect(text, noNamespace, "f.yaml").state).toBe("primary");
    const docWithout = text.replace("  namespace: media\n", "");
    expect(inspect(docWithout, target, "f.yaml").state).toBe("primary");
  });

  it("honours an explicit kind", () => {
    expect(inspect(text, { ...target, kind: "Deployment" }, "f.yaml").state).toBe("primary");
    expect(() => inspect(text, { ...target, kind: "StatefulSet" }, "f.yaml")).toThrow(
      "no StatefulSet named sonarr in f.yaml (namespace media)",
    );
  });

  it("warns about more than one replica", () => {
    const two = text.replace("replicas: 1", "replicas: 2");
    expect(inspect(two, target, "f.yaml").warnings).toContainEqual(
      "f.yaml: Deployment sonarr has 2 replicas sharing claim pvc-sonarr; a ReadWriteOnce claim attaches to one node at a time, so the pods cannot all start. Set spec.replicas: 1.",
    );
  });
});

describe("multi-document file with comments everywhere", () => {
  const text = fixture("multi-document.yaml");

  it("patches only the target document's two values", () => {
    const result = patch(text, target, "backup", "m.yaml");
    const lines = text.split("\n");
    const changed = changedLines(text, result.text);
    expect(changed).toEqual([34, 45]);
    expect(lines[33]).toBe("        role: primary   # flipped by failover-api");
    expect(result.text.split("\n")[33]).toBe("        role: backup   # flipped by failover-api");
    expect(result.text.split("\n")[44]).toBe(
      "            claimName: pvc-sonarr-backup    # trailing comment",
    );
    expect(result.text).toContain('# {"$imagepolicy": "flux-system:sonarr"}');
    expect(result.before.warnings).toEqual([]);
    expect(result.edits.map((e) => [e.field, e.line])).toEqual([
      ["spec.template.spec.nodeSelector.role", 34],
      ["spec.template.spec.volumes[1].persistentVolumeClaim.claimName", 45],
    ]);
  });

  it("round-trips", () => {
    const there = patch(text, target, "backup", "m.yaml").text;
    expect(patch(there, target, "primary", "m.yaml").text).toBe(text);
  });

  it("refuses two matches when the namespace does not tell them apart", () => {
    const twin = text.replace("name: radarr", "name: sonarr");
    expect(() => inspect(twin, target, "m.yaml")).toThrow(
      /2 documents in m.yaml declare Deployment\/StatefulSet named sonarr/,
    );
    const elsewhere = twin.replace(
      "  name: sonarr\n  namespace: media\nspec:\n  template:",
      "  name: sonarr\n  namespace: other\nspec:\n  template:",
    );
    expect(inspect(elsewhere, target, "m.yaml").state).toBe("primary");
  });
});

describe("quoting styles", () => {
  const text = fixture("quoting.yaml");

  it("keeps single, double and plain quoting in flow collections", () => {
    const result = patch(text, target, "backup", "q.yaml");
    expect(changedLines(text, result.text)).toEqual([9, 15, 17]);
    const out = result.text.split("\n");
    expect(out[8]).toBe("      nodeSelector: {'role': 'backup'}");
    expect(out[14]).toBe(
      `                  - {key: role, operator: In, values: ["backup", backup, 'backup']}`,
    );
    expect(out[16]).toBe(
      `        - {name: sonarr-data, persistentVolumeClaim: {claimName: "pvc-sonarr-backup"}}`,
    );
    expect(patch(result.text, target, "primary", "q.yaml").text).toBe(text);
  });

  it("escapes per style, and quotes plain values that would not read back as strings", () => {
    const odd: WorkloadTarget = {
      ...target,
      backup: { node: 'it\'s "here"', claim: "yes" },
    };
    const result = patch(text, odd, "backup", "q.yaml");
    const out = result.text.split("\n");
    expect(out[8]).toBe(`      nodeSelector: {'role': 'it''s "here"'}`);
    expect(out[14]).toBe(
      `                  - {key: role, operator: In, values: ["it's \\"here\\"", "it's \\"here\\"", 'it''s "here"']}`,
    );
    expect(inspect(result.text, odd, "q.yaml").state).toBe("backup");
    const plainClaim = text.replace('{claimName: "pvc-sonarr"}', "{claimName: pvc-sonarr}");
    const yes = patch(plainClaim, odd, "backup", "q.yaml");
    expect(yes.text).toContain('{claimName: "yes"}');
    // A plain value that had to be quoted stays quoted on the way back.
    expect(patch(yes.text, odd, "primary", "q.yaml").text).toContain('{claimName: "pvc-sonarr"}');
  });
});

describe("StatefulSet and nodeAffinity", () => {
  it("patches a StatefulSet's plain volume, ignoring other claim templates", () => {
    const text = fixture("statefulset.yaml");
    const result = patch(text, { ...target, kind: "StatefulSet" }, "backup", "s.yaml");
    expect(changedLines(text, result.text)).toEqual([12, 16]);
    expect(result.before.warnings).toEqual([]);
    // A StatefulSet does not replace a pod stuck Terminating on the dead primary node.
    expect(result.before.promoteWarnings).toEqual([
      expect.stringMatching(/^s\.yaml: StatefulSet sonarr waits for the old pod to terminate/),
    ]);
  });

  it("patches every In value on the key in nodeAffinity-only manifests", () => {
    const text = fixture("node-affinity-only.yaml");
    const before = inspect(text, target, "a.yaml");
    expect(before.state).toBe("primary");
    expect(before.warnings).toEqual([]);
    expect(before.observed.map((o) => o.field).filter((f) => f.includes("nodeSelector."))).toEqual(
      [],
    );
    expect(observed(before, "node")).toEqual(["primary", "primary"]);
    expect(observed(before, "claim")).toEqual(["pvc-sonarr"]);
    const result = patch(text, target, "backup", "a.yaml");
    expect(changedLines(text, result.text)).toEqual([21, 25, 29]);
    expect(result.text.split("\n")[20]).toBe("                      - backup");
    expect(result.text.split("\n")[24]).toBe('                    values: ["backup"]');
    expect(result.text).toContain("values: [amd64]");
    expect(result.edits.map((e) => e.field)).toEqual([
      "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[1].values[0]",
      "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[1].matchExpressions[0].values[0]",
      "spec.template.spec.volumes[0].persistentVolumeClaim.claimName",
    ]);
  });

  it("demotes nodeSelector + affinity together", () => {
    const text = fixture("selector-and-affinity.yaml");
    expect(inspect(text, target, "b.yaml").state).toBe("backup");
    const result = patch(text, target, "primary", "b.yaml");
    expect(changedLines(text, result.text)).toEqual([11, 19, 23]);
    expect(result.text.split("\n")[22]).toBe("            claimName: 'pvc-sonarr'");
  });

  it("treats split node values as mixed and repairs them", () => {
    const text = fixture("selector-and-affinity.yaml").replace(
      "values: [backup]",
      "values: [primary, backup]",
    );
    expect(inspect(text, target, "b.yaml").state).toBe("mixed");
    const result = patch(text, target, "backup", "b.yaml");
    expect(result.edits).toHaveLength(1);
    expect(result.text).toContain("values: [backup, backup]");
  });

  it("leaves Exists expressions alone and warns about preferred affinity on the key", () => {
    const text = fixture("seed-deployment.yaml").replace(
      "      nodeSelector:\n",
      `      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions:
                  - {key: role, operator: Exists}
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 1
              preference:
                matchExpressions:
                  - {key: role, operator: In, values: [primary]}
      nodeSelector:\n`,
    );
    const inspection = inspect(text, target, "p.yaml");
    // The Exists expression holds no value; only the nodeSelector places the pod.
    expect(inspection.observed.filter((o) => o.role === "node").map((o) => o.field)).toEqual([
      ROLE,
    ]);
    expect(inspection.warnings).toHaveLength(1);
    expect(inspection.warnings[0]).toMatch(/preferred nodeAffinity on role/);
  });
});

describe("state detection", () => {
  it("reports mixed when node and claim disagree, and patches only what differs", () => {
    const text = fixture("mixed.yaml");
    expect(inspect(text, target, "x.yaml").state).toBe("mixed");
    const toBackup = patch(text, target, "backup", "x.yaml");
    expect(toBackup.before.state).toBe("mixed");
    expect(toBackup.edits.map((e) => e.field)).toEqual(["spec.template.spec.nodeSelector.role"]);
    const toPrimary = patch(text, target, "primary", "x.yaml");
    expect(toPrimary.text).toBe(fixture("seed-deployment.yaml"));
  });

  it("reports unknown without throwing, and refuses to patch it", () => {
    const text = fixture("unknown.yaml");
    const inspection = inspect(text, target, "u.yaml");
    expect(inspection.state).toBe("unknown");
    expect(observed(inspection, "node")).toEqual(["worker-3"]);
    expect(observed(inspection, "claim")).toEqual(["pvc-sonarr"]);
    expect(() => patch(text, target, "backup", "u.yaml")).toThrow(
      'placement matches neither side: u.yaml: spec.template.spec.nodeSelector.role is "worker-3", expected "primary" (primary) or "backup" (backup). Fix the manifest or the service\'s configured values.',
    );
  });

  it("reports backup when every value is on backup", () => {
    const text = fixture("mixed.yaml").replace("role: primary", "role: backup");
    expect(inspect(text, target, "x.yaml").state).toBe("backup");
  });
});
