import { z } from "zod";
import { GUARDS } from "../../domain/automation/guards.js";
import { ERROR_CODES } from "../../domain/errors.js";
import { WORKLOAD_STATES } from "../../domain/state.js";
import { PHASES } from "../../operations/operation.js";

/**
 * The JSON bodies the routes serve (src/presenters/http-json.ts, src/http/error-response.ts,
 * readiness.ts, src/automation/automation-router.ts, src/operations). Strict objects: a field
 * served but not described here fails test/http/openapi.test.ts, and a view type that differs
 * from its schema fails `tsc` in views-match.ts. A field whose value can be absent is omitted
 * from the JSON (never `null`) unless it says nullable.
 */

export const ErrorBody = z
  .strictObject({
    error: z.strictObject({
      code: z
        .enum([...ERROR_CODES, "rate_limited"])
        .meta({ description: "`rate_limited` is the 429 of src/http/rate-limit.ts." }),
      message: z.string(),
      details: z
        .unknown()
        .optional()
        .meta({ description: "Code-specific facts, e.g. `allow`, `lock`, `known`." }),
    }),
  })
  .meta({
    id: "ErrorBody",
    description:
      "Every error: one stable code (src/domain/errors.ts) and a message that says what to do.",
  });

export const Health = z.strictObject({ status: z.literal("ok") }).meta({ id: "Health" });

export const Readiness = z
  .strictObject({
    status: z.enum(["ready", "not_ready"]),
    reason: z.string().optional(),
    config: z
      .strictObject({
        source: z.string(),
        loadedAt: z.string(),
        lastError: z.strictObject({ message: z.string(), at: z.string() }).optional(),
      })
      .optional(),
    backend: z.string(),
    github: z
      .strictObject({
        repository: z.string(),
        result: z.enum(["pending", "ok", "rejected", "unreachable"]),
        checkedAt: z.string().optional(),
        lastSuccessAt: z.string().optional(),
        reason: z.string().optional(),
      })
      .optional(),
  })
  .meta({ id: "Readiness" });

const ServiceSummary = z
  .strictObject({
    name: z.string(),
    namespace: z.string(),
    deployment: z.string().optional(),
    helmrelease: z.string().optional(),
    volume_name: z.string(),
    primary_pvc: z.string(),
    backup_pvc: z.string(),
    primary_node_label: z.string(),
    backup_node_label: z.string(),
    path: z.string().optional(),
  })
  .meta({ id: "ServiceSummary" });

export const ServiceList = z
  .strictObject({ services: z.array(ServiceSummary) })
  .meta({ id: "ServiceList" });

export const Lock = z
  .strictObject({
    service: z.string(),
    by: z.string(),
    reason: z.string(),
    at: z.string(),
    problem: z
      .string()
      .optional()
      .meta({ description: "Set when the lock file is not valid: it locks all the same." }),
  })
  .meta({ id: "Lock" });

const ObservedValue = z
  .strictObject({
    file: z.string(),
    field: z.string(),
    role: z.enum(["node", "claim", "value"]),
    value: z.string(),
  })
  .meta({ id: "ObservedValue" });

export const ServiceStatus = z
  .strictObject({
    service: z.string(),
    state: z.enum(WORKLOAD_STATES),
    observed: z.strictObject({
      nodes: z.array(z.string()),
      claims: z.array(z.string()),
      values: z.array(ObservedValue),
    }),
    paths: z.array(z.string()),
    branch: z.string(),
    head: z.string(),
    locked: Lock.optional(),
    warnings: z.array(z.string()),
    reason: z.string().optional().meta({ description: "With state unknown: why." }),
  })
  .meta({ id: "ServiceStatus" });

export const AllStatus = z
  .strictObject({ branch: z.string(), head: z.string(), services: z.array(ServiceStatus) })
  .meta({ id: "AllStatus" });

const HistoryItem = z
  .strictObject({
    sha: z.string(),
    url: z.string().optional(),
    date: z.string(),
    action: z.string(),
    from: z.string().optional(),
    to: z.string().optional(),
    node: z.string().optional(),
    trigger: z.string().optional(),
    requester: z.string().optional(),
    headline: z.string(),
  })
  .meta({ id: "HistoryItem" });

export const History = z
  .strictObject({ service: z.string(), history: z.array(HistoryItem) })
  .meta({ id: "History" });

const Commit = z
  .strictObject({ sha: z.string(), url: z.string().optional() })
  .meta({ id: "Commit" });
const PullRequest = z
  .strictObject({ number: z.number().int(), url: z.string(), reused: z.boolean() })
  .meta({ id: "PullRequest" });
const PullRequestRef = z.strictObject({ number: z.number().int(), url: z.string() });
const FieldEdit = z
  .strictObject({
    file: z.string(),
    field: z.string(),
    from: z.string(),
    to: z.string(),
    line: z.number().int(),
  })
  .meta({ id: "FieldEdit" });
const Side = z.enum(["primary", "backup"]);
const Mode = z.enum(["urgent", "pr"]);
const Action = z.enum(["promote", "demote"]);

const Merge = z.strictObject({ sha: z.string() });

/** The data-loss window a promote accepts (src/failover/rpo-gate.ts). */
const Rpo = z
  .strictObject({
    seconds: z.number().nullable().meta({
      description: "Age of the backup copy (VolSync lastSyncTime); null when unknown",
    }),
    message: z.string(),
  })
  .meta({
    id: "Rpo",
    description: "Promotes only: the backup copy's age, or why it is unknown (no cluster access).",
  });

/** Fields of every promote/demote answer; each outcome adds its own (presenters/http-json.ts). */
const failoverBase = {
  rpo: Rpo.optional(),
  mode: Mode,
  service: z.string(),
  action: Action,
  from: z.enum(WORKLOAD_STATES),
  to: Side,
  paths: z
    .array(z.string())
    .meta({ description: "The service's target files, the main manifest first." }),
  head: z.string(),
  changes: z.array(FieldEdit),
  warnings: z.array(z.string()),
  message: z.string(),
};

export const FailoverAnswer = z
  .discriminatedUnion("outcome", [
    z.strictObject({
      ...failoverBase,
      outcome: z.literal("dry_run"),
      dry_run: z.literal(true),
      diff: z.string(),
    }),
    z.strictObject({
      ...failoverBase,
      outcome: z.literal("no_op"),
      dry_run: z.literal(false),
      superseded_pull_request: PullRequestRef.optional().meta({
        description:
          "The open failover PR this request closed: merged, it would have moved the service again. (A commit's superseded PRs are closed after the answer.)",
      }),
    }),
    z.strictObject({
      ...failoverBase,
      outcome: z.literal("applied"),
      dry_run: z.literal(false),
      commit: Commit,
      diff: z.string(),
    }),
    z.strictObject({
      ...failoverBase,
      outcome: z.enum(["pr_opened", "pr_armed"]),
      dry_run: z.literal(false),
      pull_request: PullRequest,
      diff: z.string(),
    }),
    z.strictObject({
      ...failoverBase,
      outcome: z.literal("pr_merged"),
      dry_run: z.literal(false),
      pull_request: PullRequest,
      merge: Merge,
      diff: z.string(),
    }),
  ])
  .meta({ id: "FailoverAnswer", description: "One shape per outcome." });

export const LockAnswer = z
  .strictObject({
    outcome: z.enum(["locked", "unlocked", "no_op"]),
    service: z.string(),
    lock: Lock.nullable(),
    commit: Commit.optional().meta({ description: "Absent for no_op." }),
    message: z.string(),
  })
  .meta({ id: "LockAnswer" });

const NodeServiceMoved = z.strictObject({
  service: z.string(),
  rpo: Rpo.optional(),
  result: z.enum(["changed", "no_op"]),
  from: z.enum(WORKLOAD_STATES),
  to: Side,
  changes: z.array(FieldEdit),
  warnings: z.array(z.string()),
});
const NodeServiceLeft = z.strictObject({
  service: z.string(),
  result: z.enum(["refused", "locked"]),
  code: z.enum(ERROR_CODES),
  message: z.string(),
});

const nodeBase = {
  mode: Mode,
  node: z.string(),
  action: Action,
  to: Side,
  head: z.string(),
  services: z.array(z.union([NodeServiceMoved, NodeServiceLeft])),
  diff: z.string(),
  message: z.string(),
};

export const NodeAnswer = z
  .discriminatedUnion("outcome", [
    z.strictObject({ ...nodeBase, outcome: z.literal("dry_run"), dry_run: z.literal(true) }),
    z.strictObject({
      ...nodeBase,
      outcome: z.literal("no_op"),
      dry_run: z.literal(false),
      superseded_pull_requests: z.array(PullRequestRef).optional().meta({
        description: "The open failover PRs for the node this request closed.",
      }),
    }),
    z.strictObject({
      ...nodeBase,
      outcome: z.literal("applied"),
      dry_run: z.literal(false),
      commit: Commit,
    }),
    z.strictObject({
      ...nodeBase,
      outcome: z.enum(["pr_opened", "pr_armed"]),
      dry_run: z.literal(false),
      pull_request: PullRequest,
    }),
    z.strictObject({
      ...nodeBase,
      outcome: z.literal("pr_merged"),
      dry_run: z.literal(false),
      pull_request: PullRequest,
      merge: Merge,
    }),
  ])
  .meta({ id: "NodeAnswer", description: "One shape per outcome." });

const PhaseRecord = z
  .strictObject({
    phase: z.enum(PHASES),
    at: z.string().meta({ description: "ISO 8601." }),
    detail: z.string().optional(),
  })
  .meta({ id: "PhaseRecord" });

export const Operation = z
  .strictObject({
    id: z.string().meta({ description: "The commit's Failover-Request trailer." }),
    action: Action.optional(),
    trigger: z.string().optional(),
    requester: z.string().optional(),
    node: z.string().optional(),
    services: z.array(z.string()),
    status: z.enum(PHASES).meta({
      description:
        "The last phase; confirmed, failed, unconfirmed, refused and no_op (nothing to change) are final.",
    }),
    phases: z.array(PhaseRecord).meta({ description: "In the order they happened." }),
    commit: z.strictObject({ sha: z.string(), url: z.string().optional() }).optional(),
    pullRequest: PullRequestRef.optional(),
    flux: z
      .strictObject({ kustomization: z.string(), revision: z.string(), message: z.string() })
      .optional()
      .meta({
        description:
          "The Kustomization (namespace/name) and revision that settled it; a confirmation that needed several names them all, comma-separated, with the last one's revision.",
      }),
    rtoSeconds: z
      .number()
      .optional()
      .meta({ description: "From request (or commit) to Flux applied, in seconds." }),
  })
  .meta({
    id: "Operation",
    description:
      "One failover, from `requested` to confirmed, failed or unconfirmed; rebuilt from Git after a restart.",
  });

export const OperationAnswer = z
  .strictObject({ operation: Operation })
  .meta({ id: "OperationAnswer" });

export const AcceptedAnswer = z
  .strictObject({
    operation: z.string().meta({ description: "The operation id." }),
    status: z.literal("requested"),
    location: z.string().meta({ description: "`/api/operations/<id>`, as the Location header." }),
  })
  .meta({
    id: "AcceptedAnswer",
    description: "`?wait=false`: the write goes on in the background; follow the operation.",
  });

const HoldBack = z
  .strictObject({
    guard: z.enum(GUARDS),
    service: z.string().optional().meta({ description: "Absent: the whole node is held back." }),
    message: z.string(),
    retryAt: z
      .number()
      .optional()
      .meta({ description: "When the guard stops holding, ms since the epoch." }),
  })
  .meta({ id: "HoldBack" });

const AlertOutcome = z
  .strictObject({
    alertname: z.string(),
    fingerprint: z.string(),
    status: z.enum(["firing", "resolved"]),
    node: z.string().optional().meta({ description: "The node as the alert names it." }),
    placement: z
      .string()
      .optional()
      .meta({ description: "The placement label value it maps to (`nodes:` in services.yaml)." }),
    key: z.string(),
    result: z.enum([
      "applied",
      "pr_opened",
      "pr_merged",
      "pr_armed",
      "no_op",
      "held_back",
      "ignored",
      "failed",
    ]),
    action: Action.optional(),
    services: z.array(z.string()),
    heldBack: z.array(HoldBack),
    commit: z.strictObject({ sha: z.string(), url: z.string().optional() }).optional(),
    operation: z
      .string()
      .optional()
      .meta({ description: "The operation id, when something was written." }),
    duplicate: z
      .boolean()
      .meta({ description: "A retry's answer: the first delivery's, nothing done again." }),
    message: z.string(),
    code: z.string().optional().meta({ description: "For `failed`: the error code." }),
  })
  .meta({ id: "AlertOutcome" });

export const AlertmanagerAnswer = z.strictObject({ alerts: z.array(AlertOutcome) }).meta({
  id: "AlertmanagerAnswer",
  description:
    "One outcome per alert, in order. A retry (same group key, fingerprint, startsAt) gets the same answer and writes nothing.",
});

export const FluxEventAnswer = z
  .strictObject({
    accepted: z.literal(true),
    relevant: z.boolean().meta({
      description:
        "Whether the event reports a Kustomization reconcile (success, or an error) at a revision.",
    }),
    operations: z
      .array(z.string())
      .meta({ description: "The operations it settled (confirmed or failed)." }),
  })
  .meta({ id: "FluxEventAnswer" });
