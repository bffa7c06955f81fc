import type { Side, WorkloadTarget } from "../../service.js";
import type { PlacementFields, ValueField } from "./locate-placement.js";

/** Every node and claim value of the workload, in document order. */
export function allFields(fields: PlacementFields): ValueField[] {
  const all = [...(fields.nodeSelector ? [fields.nodeSelector] : []), ...fields.nodeAffinity];
  all.push(fields.claim, ...fields.sameClaim);
  return all.sort((a, b) => a.node.range[0] - b.node.range[0]);
}

/** The value `field` must hold for the workload to be on `side`. */
export function expectedValue(field: ValueField, target: WorkloadTarget, side: Side): string {
  return field.role === "node" ? target[side].node : target[side].claim;
}
