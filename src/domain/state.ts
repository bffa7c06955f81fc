/**
 * primary/backup: node and claim agree. mixed: they disagree (a half-done failover or a hand
 * edit); promote and demote repair it. unknown: a value matches neither side.
 */
export const WORKLOAD_STATES = ["primary", "backup", "mixed", "unknown"] as const;
export type WorkloadState = (typeof WORKLOAD_STATES)[number];
