import type { WorkloadTarget } from "../../service.js";
import { parseManifest } from "../../yaml/parse-manifest.js";
import type { Located, LocatedValue, SubstitutionRef } from "../types.js";
import { findWorkload } from "./find-workload.js";
import { locatePlacement, type ValueField } from "./locate-placement.js";
import { allFields, expectedValue } from "./placement-state.js";
import { workloadPromoteWarnings, workloadWarnings } from "./workload-warnings.js";

/** A raw Deployment/StatefulSet: nodeSelector, required nodeAffinity and the volume's claim. */
export function locateWorkload(text: string, file: string, target: WorkloadTarget): Located {
  const docs = parseManifest(text, file);
  const workload = findWorkload(docs, target, file);
  const fields = locatePlacement(workload, target, text, file);
  const values: LocatedValue[] = [];
  const substitutions: SubstitutionRef[] = [];
  for (const f of allFields(fields)) {
    const sides = {
      primary: expectedValue(f, target, "primary"),
      backup: expectedValue(f, target, "backup"),
    };
    if (f.variable !== undefined) {
      substitutions.push({
        file,
        field: f.field,
        role: f.role,
        variable: f.variable,
        exact: f.exact === true,
        scalar: f.node,
        ...sides,
      });
    } else {
      values.push(toLocated(f, file, sides));
    }
  }
  return {
    values,
    substitutions,
    warnings: workloadWarnings(workload, fields, target, file),
    promoteWarnings: workloadPromoteWarnings(workload, file),
  };
}

function toLocated(
  f: ValueField,
  file: string,
  sides: { primary: string; backup: string },
): LocatedValue {
  return { file, field: f.field, role: f.role, value: f.value, scalar: f.node, ...sides };
}
