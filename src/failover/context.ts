import type { ServicesConfig } from "../config/services-config.js";
import type { BackupFacts, RpoVerdict } from "../domain/automation/rpo.js";
import type { FailoverMode, Outcome } from "../domain/outcome.js";
import type { Action, ServiceSpec } from "../domain/service.js";
import type { GitOpsRepo } from "../repo/port.js";
import type { BackgroundWork } from "./background.js";
import type { FailoverEvents } from "./event-bus.js";
import type { ManifestLocator } from "./locate-manifest.js";
import type { PullRequestSettings } from "./pull-request-flow.js";
import type { StatusCache } from "./status-cache.js";

export type { FailoverMode } from "../domain/outcome.js";

/** What every use case needs; built once by the composition root. */
export interface FailoverContext {
  readonly repo: GitOpsRepo;
  /** The branch failovers read and write (GITOPS_BRANCH, else the repo's default). */
  readonly branch: () => Promise<string>;
  /** The current services config (it may be reloaded while the process runs). */
  readonly config: () => ServicesConfig;
  /** Bounded re-read/re-plan attempts when the branch moves under a write. */
  readonly maxAttempts: number;
  /**
   * Time one failover may take (FAILOVER_BUDGET_MS); past it the answer is `timeout` and the
   * GitHub calls still in flight for it are aborted. No bound when absent.
   */
  readonly budgetMs?: number | undefined;
  readonly locator: ManifestLocator;
  /**
   * Statuses by (branch head, service), for status reads only; absent: every status reads.
   * Use cases that move the branch tell it (`moved`); planning never reads from it.
   */
  readonly statusCache?: StatusCache | undefined;
  /** How changes land when neither the request nor the service says. */
  readonly defaultMode: FailoverMode;
  /** PR mode's port and settings; absent for backends without pull requests. */
  readonly pullRequests: PullRequestSettings | undefined;
  /**
   * The failover events (events.ts) and their listeners: audit, Flux ping, metrics,
   * superseded-PR cleanup, the log line. Absent: nothing listens (unit tests).
   */
  readonly events?: FailoverEvents | undefined;
  /**
   * The RPO gate's port: how old the service's backup copy is and whether a manual promote
   * may go ahead (src/cluster's reader, built by the composition root). Absent, or without
   * cluster access: "RPO unknown", never a refusal.
   */
  readonly rpo?: RpoPort | undefined;
  /**
   * Where a write answered before it ends (`?wait=false`) goes on running: the runtime's
   * queue, which SIGTERM drains. Absent: such writes are answered when they end.
   */
  readonly background?: BackgroundWork | undefined;
  /**
   * A caller's own guards, decided again against the head a write would land on (deliver.ts
   * calls it after every read, before it plans). Automation sets it: one node at a time and
   * cooldowns are decided from history read before the pipeline's read, and a commit landing
   * meanwhile must count. Absent: every service the request names may move.
   */
  readonly recheck?: Recheck | undefined;
}

/** The services a caller's guards still let move at `head`; undefined: all of them. */
export type Recheck = (head: string) => Promise<ReadonlySet<string> | undefined>;

/** What the cluster says about a service's backup copy, judged against its `max_rpo`. */
export interface RpoReading extends RpoVerdict {
  readonly facts: BackupFacts;
}

export type RpoPort = (
  spec: ServiceSpec,
  options: { readonly now: number; readonly acceptDataLoss: boolean },
) => Promise<RpoReading>;

/** A change of the branch, as the Flux receiver ping reports it. */
export interface BranchChange {
  /** The service, or `node <node>` for a node-wide commit. */
  readonly service: string;
  readonly action: Action;
  readonly outcome: Extract<Outcome, "applied" | "pr_merged">;
  /** The commit now on the branch, when known. */
  readonly commit?: string | undefined;
}

/** Resolves the branch once, on first use, and remembers it. */
export function memoBranch(resolve: () => Promise<string>): () => Promise<string> {
  let branch: Promise<string> | undefined;
  return () => {
    branch ??= resolve().catch((error: unknown) => {
      branch = undefined;
      throw error;
    });
    return branch;
  };
}
