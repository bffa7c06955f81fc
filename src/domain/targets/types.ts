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
}

/**
 * A value written as a Flux post-build substitution (`${VAR}`): the value that takes effect
 * is `spec.postBuild.substitute.VAR` of the Flux Kustomization that applies the file.
 */
export interface SubstitutionRef {
  readonly file: string;
  readonly field: string;
  readonly role: ValueRole;
  readonly variable: string;
  readonly primary: string;
  readonly backup: string;
}

export interface Located {
  readonly values: readonly LocatedValue[];
  readonly substitutions: readonly SubstitutionRef[];
  readonly warnings: readonly string[];
}

/** `${VAR}` exactly (Flux's syntax; `${VAR:=default}` too): the variable's name, else undefined. */
export function substitutionVariable(value: string): string | undefined {
  return /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[=-][^}]*)?\}$/.exec(value)?.[1];
}
