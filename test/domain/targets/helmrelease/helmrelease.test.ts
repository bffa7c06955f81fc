import { describe, expect, it } from "vitest";
import type { HelmReleaseTarget } from "../../../../src/domain/service.js";
import { inspectTargets, patchTargets } from "../../../../src/domain/targets/engine.js";
import { locateHelmRelease } from "../../../../src/domain/targets/helmrelease/helmrelease-locator.js";
import { changes, crlf, filesOf, refusal, release, roundTrip, shape } from "../shapes.js";

const PLEX = "kubernetes/apps/media/plex/app/helmrelease.yaml";
const RADARR = "multi-document/radarr.yaml";
const BAZARR = "mixed/bazarr.yaml";

const plex: HelmReleaseTarget = {
  name: "plex",
  namespace: "media",
  persistence: "config",
  nodeLabelKey: "role",
  primary: { claim: "pvc-plex", node: "primary" },
  backup: { claim: "pvc-plex-backup", node: "backup" },
};

const AFFINITY =
  "spec.values.controllers.transcoder.pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values[0]";

describe("app-template HelmRelease (plex: defaults, controller overrides, comments)", () => {
  it("promotes exactly the default nodeSelector, the transcoder's affinity and the claim", () => {
    const files = filesOf([PLEX]);
    const patch = roundTrip(files, [release(PLEX, plex)]);
    expect(patch.before.state).toBe("primary");
    expect(changes(patch)).toEqual({
      [PLEX]: [
        {
          line: 29,
          before: "        role: primary   # the node that holds the local copy",
          after: "        role: backup   # the node that holds the local copy",
        },
        {
          line: 57,
          before: '                        values: ["primary"]',
          after: '                        values: ["backup"]',
        },
        {
          line: 67,
          before: "        existingClaim: pvc-plex",
          after: "        existingClaim: pvc-plex-backup",
        },
      ],
    });
    expect(patch.files[0]?.edits.map((e) => e.field)).toEqual([
      "spec.values.defaultPodOptions.nodeSelector.role",
      AFFINITY,
      "spec.values.persistence.config.existingClaim",
    ]);
    // Functional comments survive.
    expect(patch.files[0]?.after).toContain(
      'tag: 1.41.3 # {"$imagepolicy": "flux-system:plex:tag"}',
    );
  });

  it("warns a promote about Recreate controllers (the old pod on a dead node blocks them), not about RollingUpdate, nfs or emptyDir", () => {
    const { warnings, promoteWarnings } = inspectTargets(filesOf([PLEX]), [release(PLEX, plex)]);
    // A failover moves the pod to another claim: RollingUpdate causes no Multi-Attach.
    expect(warnings).toEqual([]);
    expect(promoteWarnings).toEqual([
      expect.stringMatching(
        /^kubernetes\/apps\/media\/plex\/app\/helmrelease\.yaml: HelmRelease plex controller plex \(strategy Recreate, the chart's default\) waits for the old pod to terminate .*node\.kubernetes\.io\/out-of-service=nodeshutdown:NoExecute/,
      ),
    ]);
  });

  it("moves only the named controller's placement when a controller is configured", () => {
    const files = filesOf([PLEX]);
    const patch = roundTrip(files, [release(PLEX, { ...plex, controller: "plex" })]);
    expect(changes(patch)[PLEX]?.map((c) => c.line)).toEqual([29, 67]);
    expect(patch.before.warnings).toEqual([]);
  });

  it("warns when the configured controller does not mount the claim (advancedMounts)", () => {
    const { warnings } = inspectTargets(filesOf([PLEX]), [
      release(PLEX, { ...plex, controller: "transcoder" }),
    ]);
    expect(warnings).toContain(
      `${PLEX}: spec.values.persistence.config is mounted only by controller(s) plex (advancedMounts), not by transcoder, whose placement failover moves.`,
    );
  });

  it("round-trips the CRLF variant, keeping every \\r", () => {
    const text = crlf(shape(PLEX));
    const files = filesOf([PLEX], [], { [PLEX]: text });
    const patch = roundTrip(files, [release(PLEX, plex)]);
    const after = patch.files[0]?.after ?? "";
    expect(after.split("\r\n").length).toBe(text.split("\r\n").length);
    expect(after).toContain("        role: backup   # the node that holds the local copy\r\n");
    expect(after).toContain("        existingClaim: pvc-plex-backup\r\n");
  });

  it("reports a mixed state and finishes it (bazarr: node moved by hand, claim not)", () => {
    const bazarr: HelmReleaseTarget = {
      name: "bazarr",
      persistence: "config",
      nodeLabelKey: "role",
      primary: { claim: "pvc-bazarr", node: "primary" },
      backup: { claim: "pvc-bazarr-backup", node: "backup" },
    };
    const files = filesOf([BAZARR]);
    const targets = [release(BAZARR, bazarr)];
    expect(inspectTargets(files, targets).state).toBe("mixed");
    const toBackup = patchTargets(files, targets, "backup");
    expect(changes(toBackup)[BAZARR]).toEqual([
      {
        line: 16,
        before: "        existingClaim: pvc-bazarr",
        after: "        existingClaim: pvc-bazarr-backup",
      },
    ]);
    const toPrimary = patchTargets(files, targets, "primary");
    expect(changes(toPrimary)[BAZARR]).toEqual([
      {
        line: 13,
        before: "        role: backup # moved by hand during an incident; the claim was not",
        after: "        role: primary # moved by hand during an incident; the claim was not",
      },
    ]);
  });
});

describe("multi-document file (radarr: two releases of one name, merge strategy)", () => {
  const radarr: HelmReleaseTarget = {
    name: "radarr",
    namespace: "media",
    persistence: "data",
    nodeLabelKey: "role",
    primary: { claim: "pvc-radarr", node: "primary" },
    backup: { claim: "pvc-radarr-backup", node: "backup" },
  };

  it("picks the release by namespace and edits only its lines", () => {
    const patch = roundTrip(filesOf([RADARR]), [release(RADARR, radarr)]);
    expect(changes(patch)[RADARR]).toEqual([
      { line: 33, before: "        role: primary", after: "        role: backup" },
      {
        line: 44,
        before: "        existingClaim: 'pvc-radarr'",
        after: "        existingClaim: 'pvc-radarr-backup'",
      },
    ]);
  });

  it("with merge, a controller's nodeSelector without the key keeps the default's (quoted) value", () => {
    const byHost: HelmReleaseTarget = {
      ...radarr,
      nodeLabelKey: "kubernetes.io/hostname",
      primary: { claim: "pvc-radarr", node: "node-a" },
      backup: { claim: "pvc-radarr-backup", node: "node-b" },
    };
    const patch = roundTrip(filesOf([RADARR]), [release(RADARR, byHost)]);
    expect(patch.files[0]?.edits.map((e) => e.field)).toEqual([
      'spec.values.defaultPodOptions.nodeSelector["kubernetes.io/hostname"]',
      "spec.values.persistence.data.existingClaim",
    ]);
    expect(changes(patch)[RADARR]?.[0]?.after).toBe("        kubernetes.io/hostname: 'node-b'");
  });

  it("refuses when the namespace does not tell the two releases apart", () => {
    const { namespace: _, ...anywhere } = radarr;
    const error = refusal(filesOf([RADARR]), [release(RADARR, anywhere)]);
    expect(error.message).toBe(
      `2 documents in ${RADARR} declare HelmRelease radarr; exactly one is required. Remove the duplicates or set the target's namespace to tell them apart.`,
    );
  });

  it("refuses a release that is not in the file", () => {
    const error = refusal(filesOf([RADARR]), [release(RADARR, { ...radarr, name: "lidarr" })]);
    expect(error.message).toMatch(
      /^no HelmRelease \(helm\.toolkit\.fluxcd\.io\/v2\) named lidarr in multi-document\/radarr\.yaml \(namespace media\)/,
    );
  });
});

/** A small app-template release with `values` (indented 4) spliced in. */
function hr(values: string, extra = ""): string {
  return [
    "apiVersion: helm.toolkit.fluxcd.io/v2",
    "kind: HelmRelease",
    "metadata:",
    "  name: app",
    extra,
    "spec:",
    "  chart: {spec: {chart: app-template, sourceRef: {kind: HelmRepository, name: bjw-s}}}",
    "  values:",
    values,
  ]
    .filter((l) => l !== "")
    .join("\n")
    .concat("\n");
}

const app: HelmReleaseTarget = {
  name: "app",
  persistence: "data",
  nodeLabelKey: "role",
  primary: { claim: "pvc-app", node: "primary" },
  backup: { claim: "pvc-app-backup", node: "backup" },
};
const F = "apps/app/helmrelease.yaml";

function refused(text: string, target: HelmReleaseTarget = app) {
  return refusal(filesOf([F], [], { [F]: text }), [release(F, target)]);
}

const SELECTOR = "    defaultPodOptions:\n      nodeSelector:\n        role: primary";
const CLAIM = "    persistence:\n      data:\n        existingClaim: pvc-app";

describe("HelmRelease refusals name the file and the field", () => {
  it("refuses a claim from a StatefulSet's volumeClaimTemplates, saying what can work instead", () => {
    const error = refused(
      hr(
        `${SELECTOR}\n    controllers:\n      main:\n        type: statefulset\n        statefulset:\n          volumeClaimTemplates:\n            - name: data\n              size: 1Gi\n              globalMounts: [{path: /data}]`,
      ),
    );
    expect(error.message).toContain(
      `${F}: HelmRelease app gets data from spec.values.controllers.main.statefulset.volumeClaimTemplates[0] (a StatefulSet's volumeClaimTemplates)`,
    );
    expect(error.message).toContain("mount that as spec.values.persistence.data.existingClaim");
    expect(error.message).not.toContain("add it with existingClaim");
  });

  it("refuses a Helm template claim it cannot evaluate, saying what to configure instead", () => {
    const error = refused(
      hr(
        `${SELECTOR}\n    persistence:\n      data:\n        existingClaim: "{{ .Values.claim }}"`,
      ),
    );
    expect(error.message).toBe(
      `${F}: spec.values.persistence.data.existingClaim is a Helm template ("{{ .Values.claim }}"); failover evaluates {{ .Release.Name }} (with text around it) in a HelmRelease only, and cannot tell what this renders to. Configure a literal value here, or point a "field" target at the place the value really lives (for example the ConfigMap or Kustomization that holds it).`,
    );
    expect(error.details).toMatchObject({
      file: F,
      field: "spec.values.persistence.data.existingClaim",
    });
  });

  it("refuses a Helm template node value", () => {
    const error = refused(
      hr(
        `    defaultPodOptions:\n      nodeSelector:\n        role: '{{ .Values.node }}'\n${CLAIM}`,
      ),
    );
    expect(error.message).toMatch(
      /^apps\/app\/helmrelease\.yaml: spec\.values\.defaultPodOptions\.nodeSelector\.role is a Helm template/,
    );
  });

  it("refuses a value using a variable that no Flux Kustomization sets", () => {
    const error = refused(
      hr(`${SELECTOR}\n    persistence:\n      data:\n        existingClaim: pvc-\${APP}`),
    );
    expect(error.message).toContain(
      `${F}: spec.values.persistence.data.existingClaim is \${APP}, but APP is not defined in spec.postBuild.substitute of any Flux Kustomization`,
    );
  });

  it("refuses aliases and anchors on the edit path", () => {
    const alias = refused(
      hr(`    defaultPodOptions:\n      nodeSelector:\n        role: &n primary\n${CLAIM}`),
    );
    expect(alias.message).toMatch(
      /spec\.values\.defaultPodOptions\.nodeSelector\.role is anchored/,
    );
    const aliased = refused(
      hr(
        `    x: &c pvc-app\n${SELECTOR}\n    persistence:\n      data:\n        existingClaim: *c`,
      ),
    );
    expect(aliased.message).toBe(
      `${F}: spec.values.persistence.data.existingClaim is a YAML alias (*c); failover edits literal values only. Write the literal value in place.`,
    );
    const anchoredMap = refused(
      hr(`    defaultPodOptions: &defaults\n      nodeSelector:\n        role: primary\n${CLAIM}`),
    );
    expect(anchoredMap.message).toBe(
      `${F}: spec.values.defaultPodOptions carries the YAML anchor &defaults; editing inside it would also change every alias of it. Remove the anchor and write the values out.`,
    );
  });

  it("refuses a missing persistence item, listing the others", () => {
    const error = refused(
      hr(`${SELECTOR}\n    persistence:\n      config:\n        existingClaim: x`),
    );
    expect(error.message).toBe(
      `${F}: HelmRelease app has no spec.values.persistence.data (persistence items: config). Set the service's persistence to one of them, or add it with existingClaim: pvc-app.`,
    );
  });

  it("refuses a persistence item without existingClaim or of another type", () => {
    const missing = refused(hr(`${SELECTOR}\n    persistence:\n      data:\n        size: 1Gi`));
    expect(missing.message).toBe(
      `${F}: spec.values.persistence.data.existingClaim is missing, so the chart creates a claim of its own and failover has nothing to swap. Set spec.values.persistence.data.existingClaim: pvc-app.`,
    );
    const nfs = refused(
      hr(
        `${SELECTOR}\n    persistence:\n      data:\n        type: nfs\n        existingClaim: pvc-app`,
      ),
    );
    expect(nfs.message).toMatch(
      /^apps\/app\/helmrelease\.yaml: spec\.values\.persistence\.data is of type nfs;/,
    );
  });

  it("refuses when no placement takes effect, saying where to add it", () => {
    const error = refused(hr(CLAIM));
    expect(error.message).toBe(
      `no nodeSelector role or required nodeAffinity on role takes effect in ${F} (HelmRelease app): add \`spec.values.defaultPodOptions.nodeSelector.role: primary\`.`,
    );
  });

  it("follows overwrite: a controller's own nodeSelector replaces the default one", () => {
    const text = hr(
      `${SELECTOR}\n    controllers:\n      main:\n        pod:\n          nodeSelector:\n            zone: home\n${CLAIM}`,
    );
    const error = refused(text);
    expect(error.message).toContain(
      "(with defaultPodOptionsStrategy overwrite, the chart's default, spec.values.controllers.main.pod.nodeSelector replaces spec.values.defaultPodOptions.nodeSelector: add the role placement there, or set defaultPodOptionsStrategy: merge)",
    );
  });

  it("takes a controller's own value over the default one", () => {
    const text = hr(
      `${SELECTOR}\n    controllers:\n      main:\n        pod:\n          nodeSelector:\n            role: primary\n${CLAIM}`,
    );
    const located = locateHelmRelease(text, F, app);
    expect(located.values.map((v) => v.field)).toEqual([
      "spec.values.controllers.main.pod.nodeSelector.role",
      "spec.values.persistence.data.existingClaim",
    ]);
  });

  it("warns about a controller the placement does not reach", () => {
    const text = hr(
      `    controllers:\n      main:\n        pod:\n          nodeSelector:\n            role: primary\n      worker:\n        type: deployment\n${CLAIM}`,
    );
    const located = locateHelmRelease(text, F, app);
    expect(located.warnings).toEqual([
      `${F}: HelmRelease app controller worker has no nodeSelector role or required nodeAffinity on role; failover does not move it.`,
    ]);
  });

  it("refuses an unknown controller and an unknown strategy", () => {
    const unknown = refused(hr(`${SELECTOR}\n    controllers:\n      main: {}\n${CLAIM}`), {
      ...app,
      controller: "worker",
    });
    expect(unknown.message).toBe(
      `${F}: HelmRelease app has no controller worker under spec.values.controllers (controllers: main). Set the service's controller to one of them, or leave it out to move every controller.`,
    );
    const strategy = refused(hr(`    defaultPodOptionsStrategy: deep\n${SELECTOR}\n${CLAIM}`));
    expect(strategy.message).toMatch(/spec\.values\.defaultPodOptionsStrategy is deep;/);
  });

  it("refuses substitutions Flux is told not to make", () => {
    const error = refused(
      hr(
        `    defaultPodOptions:\n      nodeSelector:\n        role: \${NODE}\n${CLAIM}`,
        "  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled",
      ),
    );
    expect(error.message).toContain(
      `spec.values.defaultPodOptions.nodeSelector.role is \${NODE}, but the object is annotated kustomize.toolkit.fluxcd.io/substitute: disabled`,
    );
  });

  it("warns about other claims and hostPath items that stay behind, and about valuesFrom", () => {
    const text = hr(
      `${SELECTOR}\n${CLAIM}\n      cache:\n        existingClaim: pvc-cache\n      scratch:\n        size: 5Gi\n      dev:\n        type: hostPath\n        hostPath: /dev/dri\n      off:\n        enabled: false\n        existingClaim: pvc-off`,
    ).replace("spec:\n", "spec:\n  valuesFrom:\n    - kind: ConfigMap\n      name: app-values\n");
    const { warnings } = locateHelmRelease(text, F, app);
    expect(warnings).toEqual([
      `${F}: spec.values.persistence.cache uses claim pvc-cache, which failover does not change; a ReadWriteOnce volume stays with its node.`,
      `${F}: spec.values.persistence.scratch uses a claim the chart creates, which failover does not change; a ReadWriteOnce volume stays with its node.`,
      `${F}: spec.values.persistence.dev is a hostPath volume; its data stays on the node the pod leaves.`,
      `${F}: HelmRelease app also takes values from spec.valuesFrom, which Helm merges over spec.values; failover edits spec.values only, so a placement or claim set there wins.`,
    ]);
  });
});
