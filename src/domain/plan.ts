import { failoverCommitMessage } from "./commit-message.js";
import { type FieldEdit, patchWorkload } from "./manifest/workload.js";
import type { Trigger } from "./outcome.js";
import { type Action, type ServiceSpec, type Side, targetSide } from "./service.js";
import type { ObservedPlacement, WorkloadState } from "./state.js";
import { unifiedDiff } from "./unified-diff.js";

/** What a failover would change in one manifest, computed from its text alone. */
export interface FailoverPlan {
  readonly service: string;
  readonly action: Action;
  readonly path: string;
  readonly from: WorkloadState;
  readonly to: Side;
  readonly observed: ObservedPlacement;
  /** False when the manifest is already on the target side: nothing to commit. */
  readonly changed: boolean;
  readonly before: string;
  readonly after: string;
  readonly edits: readonly FieldEdit[];
  readonly diff: string;
  readonly warnings: readonly string[];
}

export function planFailover(
  spec: ServiceSpec,
  action: Action,
  path: string,
  text: string,
): FailoverPlan {
  const to = targetSide(action);
  const result = patchWorkload(text, spec.target, to, path);
  return {
    service: spec.name,
    action,
    path,
    from: result.before.state,
    to,
    observed: result.before.observed,
    changed: result.changed,
    before: text,
    after: result.text,
    edits: result.edits,
    diff: unifiedDiff(path, text, result.text),
    warnings: result.warnings,
  };
}

/** One line per edited value, e.g. "spec.template.spec.nodeSelector.role: primary -> backup". */
export function describeEdits(edits: readonly FieldEdit[]): string[] {
  return edits.map((e) => `${e.field}: ${e.from} -> ${e.to}`);
}

/** The commit message of a plan: headline, the edited fields, and the machine-readable trailers. */
export function planCommitMessage(
  plan: FailoverPlan,
  request: { trigger: Trigger; requester: string },
): string {
  return failoverCommitMessage({
    service: plan.service,
    action: plan.action,
    from: plan.from,
    to: plan.to,
    trigger: request.trigger,
    requester: request.requester,
    changes: describeEdits(plan.edits).map((e) => `${plan.path} ${e}`),
  });
}
