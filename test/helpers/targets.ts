import type { WorkloadTarget } from "../../src/domain/service.js";

/** sonarr's workload as the seed's config describes it, written out (independent of the config code). */
export const SONARR_TARGET: WorkloadTarget = {
  name: "sonarr",
  namespace: "media",
  volumeName: "sonarr-data",
  nodeLabelKey: "role",
  primary: { claim: "pvc-sonarr", node: "primary" },
  backup: { claim: "pvc-sonarr-backup", node: "backup" },
};
