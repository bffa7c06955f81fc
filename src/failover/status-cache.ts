import type { FailoverError } from "../domain/errors.js";
import type { ServiceSpec } from "../domain/service.js";
import type { GitOpsRepo, SeenHead } from "../repo/port.js";
import type { ServiceStatus } from "./status-types.js";

/** A service's status as computed at a head, with the spec it was computed for. */
export interface CachedStatus {
  readonly spec: ServiceSpec;
  readonly status: ServiceStatus;
  /** A single-service status refuses with this (the all-services answer shows `status`). */
  readonly refusal?: FailoverError;
}

/** One branch: the head last seen, and the statuses computed at one head. */
interface BranchEntry {
  seen: SeenHead | undefined;
  /** Bumped whenever the branch is known to have moved: reads begun before may not store. */
  generation: number;
  statuses: { head: string; bySpec: Map<string, CachedStatus> };
}

/** What a probe tells the caller: the head now, and the generation a later store must match. */
export interface ProbedHead {
  readonly head: string;
  readonly generation: number;
}

/**
 * Statuses keyed by (branch head, service), for reads only: a status is a pure function of
 * the files at a head and the service's config, so while the head has not moved it is served
 * from here after one cheap probe (`GitOpsRepo.probeHead`: a 304 on GitHub). Only the newest
 * head's statuses are kept. A config reload gives new specs, which miss. Writes never read
 * from here: planning always reads fresh.
 *
 * `moved` (our own commit, a `push` webhook) drops everything for the branch and forgets the
 * validator, so the next probe is unconditional and no status computed before the move is
 * served after it, even if GitHub's REST answer lags behind the commit.
 */
export class StatusCache {
  readonly #branches = new Map<string, BranchEntry>();

  #entry(branch: string): BranchEntry {
    let entry = this.#branches.get(branch);
    if (entry === undefined) {
      entry = { seen: undefined, generation: 0, statuses: { head: "", bySpec: new Map() } };
      this.#branches.set(branch, entry);
    }
    return entry;
  }

  /** Asks the repository for the head (conditionally, when a previous answer is known). */
  async probe(repo: GitOpsRepo, branch: string): Promise<ProbedHead> {
    const entry = this.#entry(branch);
    const generation = entry.generation;
    const probe = await repo.probeHead(branch, entry.seen);
    if (entry.generation === generation) {
      entry.seen = {
        head: probe.head,
        ...(probe.validator === undefined ? {} : { validator: probe.validator }),
      };
    }
    return { head: probe.head, generation };
  }

  /** The cached status of `spec` at `head`, if computed there with this very config. */
  get(branch: string, head: string, spec: ServiceSpec): CachedStatus | undefined {
    const statuses = this.#branches.get(branch)?.statuses;
    if (statuses?.head !== head) return undefined;
    const hit = statuses.bySpec.get(spec.name);
    return hit?.spec === spec ? hit : undefined;
  }

  /** Stores statuses read at `head`, unless the branch was told to have moved since `generation`. */
  store(branch: string, generation: number, head: string, computed: readonly CachedStatus[]): void {
    const entry = this.#entry(branch);
    if (entry.generation !== generation) return;
    if (entry.statuses.head !== head) entry.statuses = { head, bySpec: new Map() };
    for (const c of computed) entry.statuses.bySpec.set(c.spec.name, c);
  }

  /**
   * The branch moved to `head` (when known): our own commit or merge, or a `push` webhook.
   * Everything cached for it is dropped and the next probe asks unconditionally; unless what
   * is cached was already read at `head` (the webhook of a commit we have read since).
   */
  moved(branch: string, head?: string): void {
    const entry = this.#entry(branch);
    entry.generation++; // reads begun before this may have seen the old head: they store nothing
    if (head !== undefined && entry.statuses.head === head.toLowerCase()) return;
    entry.seen = undefined;
    entry.statuses = { head: "", bySpec: new Map() };
  }
}
