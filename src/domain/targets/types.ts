import type { Scalar } from "yaml";

/** What a located value says: the node, the claim, or a configured value (generic target). */
export type ValueRole = "node" | "claim" | "value";

/** One scalar a failover sets, found at a byte range of a file. */
export interface LocatedValue {
  readonly file: string;
  /** YAML path for messages and edits, e.g. "spec.template.spec.nodeSelector.role". */
  readonly field: string;
  readonly role: ValueRole;
  /** As the file says now. */
  readonly value: string;
  readonly primary: string;
  readonly backup: string;
  /** The scalar node (its range locates the bytes; its type keeps the quoting style). */
  readonly scalar: Scalar & { range: [number, number, number] };
  /**
   * Set when the file holds a template that failover evaluated to `value`
   * (`{{ .Release.Name }}`, `${APP}`): the scalar as written. A promote replaces it with the
   * backup literal and records this text, so a demote writes it back byte for byte.
   */
  readonly template?: string;
}

/**
 * A value written with Flux post-build substitution: exactly `${VAR}` (its value is
 * `spec.postBuild.substitute.VAR` of the Flux Kustomization that applies the file, and may be
 * moved there), or any other text with `${...}` in it (evaluated, and moved in place).
 */
export interface SubstitutionRef {
  readonly file: string;
  readonly field: string;
  readonly role: ValueRole;
  /** The variable of an exact `${VAR}`; else the first variable the value reads. */
  readonly variable: string;
  /** True when the value is exactly `${VAR}`, no default and nothing around it. */
  readonly exact: boolean;
  readonly primary: string;
  readonly backup: string;
  /** The scalar at the place of use. */
  readonly scalar: Scalar<string> & { range: [number, number, number] };
}

export interface Located {
  readonly values: readonly LocatedValue[];
  readonly substitutions: readonly SubstitutionRef[];
  readonly warnings: readonly string[];
  /** Warnings that matter only when the service leaves its primary node (a promote). */
  readonly promoteWarnings?: readonly string[];
}

/** True when `value` is exactly `${VAR}`: no default, nothing around it. */
export function isExactSubstitution(value: string): boolean {
  return /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value);
}
