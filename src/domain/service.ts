/** Which copy of the data and which node a service runs on. */
export type Side = "primary" | "backup";

/** promote: primary -> backup. demote: backup -> primary (the seed's failback). */
export const ACTIONS = ["promote", "demote"] as const;
export type Action = (typeof ACTIONS)[number];

export function targetSide(action: Action): Side {
  return action === "promote" ? "backup" : "primary";
}

export type WorkloadKind = "Deployment" | "StatefulSet";

/**
 * What to look for in a manifest and what to write there. Pure data: the domain's view of one
 * service's workload, independent of how the config spelled it.
 */
export interface WorkloadTarget {
  /** Restricts the search to this kind; any pod-template workload when absent. */
  readonly kind?: WorkloadKind;
  readonly name: string;
  /** Matched against metadata.namespace when the document sets one. */
  readonly namespace?: string;
  /** The pod volume whose persistentVolumeClaim.claimName is swapped. */
  readonly volumeName: string;
  /** The node label key the node values belong to (the seed writes `role`). */
  readonly nodeLabelKey: string;
  readonly primary: SidePlacement;
  readonly backup: SidePlacement;
}

export interface SidePlacement {
  readonly claim: string;
  readonly node: string;
}

/** A configured service: a workload target plus where its manifest lives. */
export interface ServiceSpec {
  readonly name: string;
  /** Repository path of the manifest; found by search when the config leaves it out. */
  readonly path: string | undefined;
  readonly target: WorkloadTarget;
}
