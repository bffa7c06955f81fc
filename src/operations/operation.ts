import type { Action } from "../domain/service.js";

/** An operation's phases, in the order they can happen. */
export const PHASES = [
  "requested",
  "pr_opened",
  "committed",
  "merged",
  "confirmed",
  "failed",
  "unconfirmed",
  "refused",
  "no_op",
] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Phases after which nothing changes any more. Every command ends in one of them or in
 * `committed` (then Flux's word, or the timeout, ends it) or `pr_opened` (the merge goes on):
 * `no_op` is a command that found nothing to change, so nothing is left to wait for.
 */
export const FINAL: ReadonlySet<Phase> = new Set([
  "confirmed",
  "failed",
  "unconfirmed",
  "refused",
  "no_op",
]);

export interface PhaseRecord {
  readonly phase: Phase;
  /** ISO 8601. */
  readonly at: string;
  readonly detail?: string;
}

/** One failover, by its id (the commit's Failover-Request trailer). */
export interface Operation {
  readonly id: string;
  readonly action: Action | undefined;
  readonly trigger: string | undefined;
  readonly requester: string | undefined;
  readonly node: string | undefined;
  readonly services: readonly string[];
  readonly status: Phase;
  readonly phases: readonly PhaseRecord[];
  readonly commit: { readonly sha: string; readonly url: string | undefined } | undefined;
  readonly pullRequest: { readonly number: number; readonly url: string } | undefined;
  /**
   * The Kustomization and revision that confirmed (or failed) it. An operation that needed
   * several Kustomizations (a node-wide one) is confirmed by the last of them: `kustomization`
   * then names them all (`namespace/name, namespace/name`), `revision` and `message` are the
   * last one's.
   */
  readonly flux:
    | { readonly kustomization: string; readonly revision: string; readonly message: string }
    | undefined;
  /** From request (or commit, when the request was not seen) to Flux applied, in seconds. */
  readonly rtoSeconds: number | undefined;
}
