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

/** An app-template (bjw-s) HelmRelease: claim in values.persistence, node in pod options. */
export interface HelmReleaseTarget {
  readonly name: string;
  readonly namespace?: string;
  /** The key under spec.values.persistence whose existingClaim is swapped. */
  readonly persistence: string;
  /** The controller under spec.values.controllers whose pod options place it; any when absent. */
  readonly controller?: string;
  /** Set when the config vouches for the chart (its chartRef source is not in the repository). */
  readonly chart?: "app-template";
  readonly nodeLabelKey: string;
  readonly primary: SidePlacement;
  readonly backup: SidePlacement;
}

/** Anything else: one scalar at a path in a document of a file, with its two values. */
export interface FieldTarget {
  /** Picks the document in a multi-document file; the only document when absent. */
  readonly document?: { readonly kind?: string; readonly name?: string };
  /** Dotted path with [index] for lists, e.g. "spec.values.nodeName" or "spec.x[0].y". */
  readonly field: string;
  readonly primary: string;
  readonly backup: string;
}

/** One place a failover edits. `path` is the repository file; searched for when undefined. */
export type TargetSpec =
  | {
      readonly type: "workload";
      readonly path: string | undefined;
      readonly workload: WorkloadTarget;
    }
  | {
      readonly type: "helmrelease";
      readonly path: string | undefined;
      readonly release: HelmReleaseTarget;
    }
  | { readonly type: "field"; readonly path: string; readonly target: FieldTarget };

/** A configured service: where it runs on each side, and every place that says so. */
export interface ServiceSpec {
  readonly name: string;
  readonly namespace: string;
  /** The node values of each side (node-wide failover groups services by primary node). */
  readonly nodes: { readonly primary: string; readonly backup: string };
  readonly targets: readonly TargetSpec[];
  /** A file holding the Flux Kustomization that applies the service (found by search otherwise). */
  readonly fluxKustomization?: string;
}
