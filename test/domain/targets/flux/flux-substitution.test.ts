import { describe, expect, it } from "vitest";
import { Scalar } from "yaml";
import { ManifestRefusal } from "../../../../src/domain/errors.js";
import type { HelmReleaseTarget } from "../../../../src/domain/service.js";
import { inspectTargets } from "../../../../src/domain/targets/engine.js";
import {
  normalizeRepoPath,
  pathCovers,
  resolveDefinition,
} from "../../../../src/domain/targets/flux/flux-substitution.js";
import type { SubstitutionRef } from "../../../../src/domain/targets/types.js";
import {
  changedLines,
  changes,
  crlf,
  filesOf,
  refusal,
  release,
  roundTrip,
  shape,
} from "../shapes.js";

const SONARR = "kubernetes/apps/media/sonarr/app/helmrelease.yaml";
const SONARR_KS = "kubernetes/apps/media/sonarr/ks.yaml";
const CLUSTER_KS = "kubernetes/flux/apps.yaml";
const SETTINGS = "kubernetes/flux/vars/cluster-settings.yaml";
const PROWLARR = "kubernetes/apps/default/prowlarr/app/helmrelease.yaml";
const PROWLARR_KS = "kubernetes/apps/default/prowlarr/ks.yaml";

const sonarr: HelmReleaseTarget = {
  name: "sonarr",
  persistence: "config",
  nodeLabelKey: "role",
  primary: { claim: "pvc-sonarr", node: "primary" },
  backup: { claim: "pvc-sonarr-backup", node: "backup" },
};

const prowlarr: HelmReleaseTarget = {
  name: "prowlarr",
  namespace: "default",
  persistence: "config",
  nodeLabelKey: "role",
  primary: { claim: "prowlarr-config", node: "primary" },
  backup: { claim: "prowlarr-config-backup", node: "backup" },
};

describe(`Flux post-build substitution (sonarr: \${NODE} and \${CLAIM} set in ks.yaml)`, () => {
  it("edits ks.yaml, not the HelmRelease, and demoting restores both byte for byte", () => {
    const files = filesOf([SONARR], [SONARR_KS, CLUSTER_KS]);
    const patch = roundTrip(files, [release(SONARR, sonarr)]);
    expect(patch.files.map((f) => f.path)).toEqual([SONARR_KS]);
    expect(changes(patch)).toEqual({
      [SONARR_KS]: [
        {
          line: 19,
          before: "      NODE: primary # failover-api moves this between primary and backup",
          after: "      NODE: backup # failover-api moves this between primary and backup",
        },
        {
          line: 20,
          before: '      CLAIM: "pvc-sonarr"',
          after: '      CLAIM: "pvc-sonarr-backup"',
        },
      ],
    });
    expect(patch.files[0]?.edits.map((e) => e.field)).toEqual([
      "spec.postBuild.substitute.NODE",
      "spec.postBuild.substitute.CLAIM",
    ]);
  });

  it("reports where the values really live", () => {
    const inspection = inspectTargets(filesOf([SONARR], [SONARR_KS]), [release(SONARR, sonarr)]);
    expect(inspection.observed).toEqual([
      { file: SONARR_KS, field: "spec.postBuild.substitute.NODE", role: "node", value: "primary" },
      {
        file: SONARR_KS,
        field: "spec.postBuild.substitute.CLAIM",
        role: "claim",
        value: "pvc-sonarr",
      },
    ]);
  });

  it("works on CRLF files", () => {
    const files = filesOf([SONARR], [SONARR_KS], {
      [SONARR]: crlf(shape(SONARR)),
      [SONARR_KS]: crlf(shape(SONARR_KS)),
    });
    const patch = roundTrip(files, [release(SONARR, sonarr)]);
    expect(patch.files[0]?.after).toContain('      CLAIM: "pvc-sonarr-backup"\r\n');
  });

  it("refuses when no Kustomization covering the file defines the variable", () => {
    const error = refusal(filesOf([SONARR], [CLUSTER_KS, PROWLARR_KS]), [release(SONARR, sonarr)]);
    expect(error.message).toBe(
      `${SONARR}: spec.values.defaultPodOptions.nodeSelector.role is \${NODE}, which no Flux Kustomization covering the file sets in spec.postBuild.substitute; it can only come from spec.postBuild.substituteFrom (ConfigMap cluster-settings, Secret cluster-secrets), which failover cannot edit (Secrets are usually encrypted). Set NODE in the Kustomization's spec.postBuild.substitute, or use a "field" target on the file that holds it.`,
    );
    const none = refusal(filesOf([SONARR], [PROWLARR_KS]), [release(SONARR, sonarr)]);
    expect(none.message).toBe(
      `${SONARR}: spec.values.defaultPodOptions.nodeSelector.role is \${NODE}, but NODE is not defined in spec.postBuild.substitute of any Flux Kustomization whose spec.path covers kubernetes/apps/media/sonarr/app (looked at: ${PROWLARR_KS} (Kustomization flux-system/prowlarr, spec.path ./kubernetes/apps/default/prowlarr/app)). Define it there, name the file holding that Kustomization as the service's flux_kustomization, or use a "field" target on the file that sets the value.`,
    );
    expect(none.details).toMatchObject({ file: SONARR, variable: "NODE" });
  });

  it("refuses a variable defined by two covering Kustomizations", () => {
    const outer = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: media
  namespace: flux-system
spec:
  path: ./kubernetes/apps/media
  postBuild:
    substitute:
      NODE: primary
`;
    const files = filesOf([SONARR], [SONARR_KS, "kubernetes/flux/media.yaml"], {
      "kubernetes/flux/media.yaml": outer,
    });
    const error = refusal(files, [release(SONARR, sonarr)]);
    expect(error.message).toContain(
      `${SONARR}: spec.values.defaultPodOptions.nodeSelector.role is \${NODE}, which 2 Flux Kustomizations covering the file define (${SONARR_KS} (Kustomization flux-system/sonarr, spec.path ./kubernetes/apps/media/sonarr/app/) spec.postBuild.substitute.NODE; kubernetes/flux/media.yaml (Kustomization flux-system/media, spec.path ./kubernetes/apps/media) spec.postBuild.substitute.NODE)`,
    );
  });

  it("refuses a substitute value that is itself templated or aliased", () => {
    const nested = shape(SONARR_KS).replace("NODE: primary", `NODE: \${CLUSTER_NODE}`);
    const error = refusal(filesOf([SONARR], [SONARR_KS], { [SONARR_KS]: nested }), [
      release(SONARR, sonarr),
    ]);
    expect(error.message).toMatch(
      /^kubernetes\/apps\/media\/sonarr\/ks\.yaml: spec\.postBuild\.substitute\.NODE is templated/,
    );
  });

  it("ignores kustomize's own Kustomization and Kustomizations for other paths", () => {
    const kustomize = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [helmrelease.yaml]
`;
    const files = filesOf(
      [SONARR],
      [SONARR_KS, "kubernetes/apps/media/sonarr/app/kustomization.yaml"],
      { "kubernetes/apps/media/sonarr/app/kustomization.yaml": kustomize },
    );
    expect(inspectTargets(files, [release(SONARR, sonarr)]).state).toBe("primary");
  });
});

describe(`substituteFrom (prowlarr: \${PROWLARR_NODE} from the cluster-settings ConfigMap)`, () => {
  it("leaves a substituteFrom ConfigMap alone (other Kustomizations read it too) and writes the value in place", () => {
    const files = filesOf([PROWLARR], [PROWLARR_KS, CLUSTER_KS, SETTINGS]);
    const patch = roundTrip(files, [release(PROWLARR, prowlarr)]);
    expect(patch.files.map((f) => f.path)).toEqual([".failover/originals/app.yaml", PROWLARR]);
    const manifest = patch.files.find((f) => f.path === PROWLARR);
    expect(manifest && changedLines(manifest.before, manifest.after)).toEqual([
      { line: 17, before: "            role: ${PROWLARR_NODE}", after: "            role: backup" },
      {
        line: 25,
        before: "        existingClaim: prowlarr-config",
        after: "        existingClaim: prowlarr-config-backup",
      },
    ]);
    expect(patch.before.warnings).toContainEqual(
      expect.stringMatching(
        /^kubernetes\/flux\/vars\/cluster-settings\.yaml data\.PROWLARR_NODE: \$\{PROWLARR_NODE\} is also used by every Flux Kustomization that reads kubernetes\/flux\/vars\/cluster-settings\.yaml through substituteFrom/,
      ),
    );
  });

  it("refuses to write in place into a file two Flux Kustomizations build", () => {
    const twice = `${shape(CLUSTER_KS)}---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: prowlarr-again, namespace: flux-system}
spec:
  path: ./kubernetes/apps/default/prowlarr/app
  postBuild:
    substituteFrom:
      - {kind: ConfigMap, name: cluster-settings}
`;
    const error = refusal(
      filesOf([PROWLARR], [PROWLARR_KS, CLUSTER_KS, SETTINGS], { [CLUSTER_KS]: twice }),
      [release(PROWLARR, prowlarr)],
    );
    expect(error.message).toMatch(
      /and 2 Flux Kustomizations build this file \(.*prowlarr.*prowlarr-again/,
    );
  });

  it("refuses, naming the sources, when the variable is only in a Secret", () => {
    const error = refusal(filesOf([PROWLARR], [PROWLARR_KS, CLUSTER_KS, SETTINGS]), [
      release(PROWLARR, { ...prowlarr, persistence: "backup" }),
    ]);
    expect(error.message).toContain(
      `${PROWLARR}: spec.values.persistence.backup.existingClaim is \${SECRET_BACKUP_CLAIM}, which no Flux Kustomization covering the file sets in spec.postBuild.substitute; it can only come from spec.postBuild.substituteFrom (ConfigMap cluster-settings, Secret cluster-secrets)`,
    );
  });
});

describe("resolveDefinition directly", () => {
  const ref: SubstitutionRef = {
    file: "apps/x/app/hr.yaml",
    field: "spec.values.nodeName",
    role: "value",
    variable: "NODE",
    exact: true,
    primary: "a",
    backup: "b",
    scalar: new Scalar("${NODE}") as Scalar<string> & { range: [number, number, number] },
  };
  const ks = (path: string, extra = "") => `---
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata: {name: x, namespace: flux-system}
spec:
  path: ${path}
  postBuild:
    substitute:
      NODE: a${extra}
`;

  it("accepts the root, the directory and any ancestor, not siblings or descendants", () => {
    for (const path of ["./", ".", "./apps", "apps/x", "./apps/x/app/", "apps//x/./app"]) {
      const v = resolveDefinition(ref, [{ path: "ks.yaml", text: ks(path) }]).value;
      expect(v, path).toMatchObject({ file: "ks.yaml", value: "a", role: "value", backup: "b" });
    }
    for (const path of ["./apps/y", "./apps/x/app/sub", "./apps/x/ap"]) {
      expect(
        () => resolveDefinition(ref, [{ path: "ks.yaml", text: ks(path) }]).value,
        path,
      ).toThrow(ManifestRefusal);
    }
  });

  it("refuses an anchored definition", () => {
    expect(() =>
      resolveDefinition(ref, [
        { path: "ks.yaml", text: ks("./apps", " # c").replace("NODE: a", "NODE: &n a") },
      ]),
    ).toThrow(/ks\.yaml: spec\.postBuild\.substitute\.NODE is anchored/);
  });

  it("normalises repository paths", () => {
    expect(normalizeRepoPath("./a/b/")).toBe("a/b");
    expect(normalizeRepoPath("a/./b/../c")).toBe("a/c");
    expect(normalizeRepoPath("./")).toBe("");
    expect(pathCovers("./a", "a/b")).toBe(true);
    expect(pathCovers("./a/b", "a")).toBe(false);
    expect(pathCovers("", "a")).toBe(true);
  });
});
