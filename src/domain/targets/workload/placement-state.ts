import type { Side, WorkloadTarget } from "../../service.js";
import type { ObservedPlacement, WorkloadState } from "../../state.js";
import type { PlacementFields, ValueField } from "./locate-placement.js";

const SIDES: readonly Side[] = ["primary", "backup"];

export function allFields(fields: PlacementFields): ValueField[] {
  const all = [...(fields.nodeSelector ? [fields.nodeSelector] : []), ...fields.nodeAffinity];
  all.push(fields.claim, ...fields.sameClaim);
  return all.sort((a, b) => a.node.range[0] - b.node.range[0]);
}

export function observedOf(fields: PlacementFields): ObservedPlacement {
  return {
    nodeSelector: fields.nodeSelector?.value,
    nodeAffinity: fields.nodeAffinity.map((f) => f.value),
    claim: fields.claim.value,
  };
}

/** The value `field` must hold for the workload to be on `side`. */
export function expectedValue(field: ValueField, target: WorkloadTarget, side: Side): string {
  return field.role === "node" ? target[side].node : target[side].claim;
}

/** True when the value belongs to neither side. */
export function isForeign(field: ValueField, target: WorkloadTarget): boolean {
  return SIDES.every((side) => field.value !== expectedValue(field, target, side));
}

/** True when every node and claim value is the one configured for `side`. */
export function isAt(fields: PlacementFields, target: WorkloadTarget, side: Side): boolean {
  return allFields(fields).every((f) => f.value === expectedValue(f, target, side));
}

export function stateOf(fields: PlacementFields, target: WorkloadTarget): WorkloadState {
  if (allFields(fields).some((f) => isForeign(f, target))) return "unknown";
  // primary first: when both sides share a value, the configured primary wins.
  return SIDES.find((side) => isAt(fields, target, side)) ?? "mixed";
}
