import { it } from "vitest";
import { patchTargets } from "../src/domain/targets/engine.js";
import { relatedFiles } from "../src/domain/targets/related-files.js";
import { filesUnder } from "./helpers/files.js";

it("x", () => {
  const files = filesUnder("test/fixtures/homelab-shapes", ["README.md"]);
  const texts = new Map<string, string | null>(Object.entries(files));
  const tree = Object.keys(files);
  const HR = "kubernetes/apps/media/sonarr/app/helmrelease.yaml";
  const rel = relatedFiles({ targets: [HR], texts, tree, names: ["sonarr"] });
  console.log(rel);
  try {
    const p = patchTargets(
      {
        texts,
        tree,
        kustomizations: rel.kustomizations,
        originals: { service: "sonarr", path: ".failover/originals/sonarr.yaml" },
      },
      [
        {
          path: HR,
          spec: {
            type: "helmrelease",
            path: HR,
            release: {
              name: "sonarr",
              persistence: "config",
              nodeLabelKey: "role",
              primary: { claim: "sonarr", node: "primary" },
              backup: { claim: "sonarr-backup", node: "backup" },
            },
          },
        },
      ],
      "backup",
    );
    console.log(
      p.files.map((f) => f.path),
      p.before.warnings,
    );
  } catch (e) {
    console.log(e, (e as Error).cause);
  }
});
