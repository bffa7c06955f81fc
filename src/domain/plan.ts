import { failoverCommitMessage } from "./commit-message.js";
import type { Trigger } from "./outcome.js";
import { type Action, type ServiceSpec, type Side, targetSide } from "./service.js";
import type { WorkloadState } from "./state.js";
import { claimUsers, claimUseWarnings, type FileClaimUses } from "./targets/claim-users.js";
import {
  type FieldEdit,
  type FileEdit,
  type ObservedValue,
  type PlacedTarget,
  patchTargets,
  type TargetFiles,
} from "./targets/engine.js";
import { unifiedDiff } from "./unified-diff.js";

/** What a failover of one service would change, computed from file texts alone. */
export interface FailoverPlan {
  readonly service: string;
  readonly action: Action;
  /** The service's target files (the first is its main manifest). */
  readonly paths: readonly string[];
  readonly from: WorkloadState;
  readonly to: Side;
  readonly observed: readonly ObservedValue[];
  /** False when already on the target side: nothing to commit. */
  readonly changed: boolean;
  /** Only the files that change, with before and after texts. */
  readonly files: readonly FileEdit[];
  readonly edits: readonly FieldEdit[];
  readonly diff: string;
  readonly warnings: readonly string[];
}

export interface PlanInput {
  readonly spec: ServiceSpec;
  readonly targets: readonly PlacedTarget[];
  readonly files: TargetFiles;
  /** Neighbouring YAML, as text, for the "other users of the claim" warnings. */
  readonly siblings?: readonly { path: string; text: string }[];
  /** The same for neighbours known by their parsed claim uses only (cached by blob id). */
  readonly neighbours?: readonly FileClaimUses[];
}

export function planFailover(input: PlanInput, action: Action): FailoverPlan {
  const to = targetSide(action);
  const patch = patchTargets(input.files, input.targets, to);
  const claims = patch.before.observed.filter((o) => o.role === "claim").map((o) => o.value);
  const claimSet = [...new Set([...claims, ...claimsOf(input.spec)])];
  const warnings = [
    ...patch.before.warnings,
    ...(action === "promote" && patch.files.length > 0 ? patch.before.promoteWarnings : []),
    ...new Set([
      ...claimUsers(
        claimSet,
        input.siblings ?? [],
        input.targets.map((t) => t.path),
      ),
      ...claimUseWarnings(
        claimSet,
        input.neighbours ?? [],
        input.targets.map((t) => t.path),
      ),
    ]),
  ];
  return {
    service: input.spec.name,
    action,
    paths: input.targets.map((t) => t.path),
    from: patch.before.state,
    to,
    observed: patch.before.observed,
    changed: patch.files.length > 0,
    files: patch.files,
    edits: patch.files.flatMap((f) => f.edits),
    diff: patch.files.map((f) => unifiedDiff(f.path, f.before, f.after)).join(""),
    warnings,
  };
}

function claimsOf(spec: ServiceSpec): string[] {
  return spec.targets.flatMap((t) => {
    if (t.type === "workload") return [t.workload.primary.claim, t.workload.backup.claim];
    if (t.type === "helmrelease") return [t.release.primary.claim, t.release.backup.claim];
    return [];
  });
}

/** One line per edited value, e.g. "deployment.yaml spec.template.spec.nodeSelector.role: primary -> backup". */
export function describeEdits(edits: readonly FieldEdit[]): string[] {
  return edits.map((e) => `${e.file} ${e.field}: ${e.from} -> ${e.to}`);
}

/** The commit message of one service's plan: headline, edited fields, trailers. */
export function planCommitMessage(
  plan: FailoverPlan,
  request: { trigger: Trigger; requester: string; requestId?: string },
): string {
  return failoverCommitMessage({
    ...(request.requestId === undefined ? {} : { requestId: request.requestId }),
    headline: `failover(${plan.service}): ${plan.action} to ${plan.to}`,
    services: [{ service: plan.service, action: plan.action, from: plan.from, to: plan.to }],
    trigger: request.trigger,
    requester: request.requester,
    changes: describeEdits(plan.edits),
  });
}
