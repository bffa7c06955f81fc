import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  fluxKustomizationsIn,
  kustomizationsBuilding,
} from "../../src/domain/automation/kustomization-match.js";
import { filesUnder } from "../helpers/files.js";

const ROOT = join(import.meta.dirname, "../fixtures/homelab-shapes");

describe("which Flux Kustomization applies a manifest (homelab-shapes fixture)", () => {
  const all = Object.values(filesUnder(ROOT)).flatMap((text) => fluxKustomizationsIn(text));

  it("finds the repository's Flux Kustomizations, not kustomize's kustomization.yaml", () => {
    expect(all.map((k) => k.id)).toContain("flux-system/sonarr");
    expect(all.every((k) => k.id.includes("/"))).toBe(true);
    const text = readFileSync(
      join(ROOT, "kubernetes/apps/media/sonarr/app/kustomization.yaml"),
      "utf8",
    );
    expect(fluxKustomizationsIn(text)).toEqual([]);
  });

  it("skips a file nested too deep to compose safely, and keeps reading the next ones", () => {
    const ks = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: sonarr, namespace: flux-system}
spec: {path: ./kubernetes/apps/media/sonarr/app}
`;
    const deep = `${ks}---\nx: ${"[".repeat(20_000)}\n`;
    for (let i = 0; i < 3; i++) expect(fluxKustomizationsIn(deep)).toEqual([]);
    expect(fluxKustomizationsIn(ks).map((k) => k.id)).toEqual(["flux-system/sonarr"]);
  });

  it("the most specific spec.path covering the manifest wins", () => {
    expect([
      ...kustomizationsBuilding(["kubernetes/apps/media/sonarr/app/helmrelease.yaml"], all),
    ]).toEqual(["flux-system/sonarr"]);
    expect([
      ...kustomizationsBuilding(["kubernetes/apps/base/prowlarr/deployment.yaml"], all),
    ]).toEqual(["flux-system/prowlarr"]);
  });

  it("nothing covering: an empty set (then any Kustomization reconciling the commit confirms)", () => {
    expect(kustomizationsBuilding(["elsewhere/app.yaml"], all).size).toBe(0);
  });
});
