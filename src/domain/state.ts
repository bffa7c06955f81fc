/**
 * primary/backup: node and claim agree. mixed: they disagree (a half-done failover or a hand
 * edit); promote and demote repair it. unknown: a value matches neither side.
 */
export const WORKLOAD_STATES = ["primary", "backup", "mixed", "unknown"] as const;
export type WorkloadState = (typeof WORKLOAD_STATES)[number];

/** The values as they stand in the manifest, for status output and refusals. */
export interface ObservedPlacement {
  /** nodeSelector[<nodeLabelKey>], when set. */
  readonly nodeSelector: string | undefined;
  /** Values of required nodeAffinity `In` expressions on <nodeLabelKey>, in document order. */
  readonly nodeAffinity: readonly string[];
  readonly claim: string;
}

export interface Inspection {
  readonly state: WorkloadState;
  readonly observed: ObservedPlacement;
  readonly warnings: readonly string[];
}
