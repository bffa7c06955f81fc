import { FailoverError } from "../domain/errors.js";
import { manifestCandidates } from "../domain/manifest-path.js";
import type { ServiceSpec, TargetSpec } from "../domain/service.js";
import type { ObjectClaimUse } from "../domain/targets/claim-users.js";
import type { PlacedTarget } from "../domain/targets/engine.js";
import type { GitOpsRepo } from "../repo/port.js";

/** Neighbouring files whose parsed claim uses one process keeps (least recently used out). */
const MAX_PARSED_FILES = 2000;

/**
 * Where each target's file lives: the configured path, else the seed's search over the
 * repository tree. The tree and the search results are remembered, and forgotten when a
 * file turns out to be missing, so a failover lists the tree only the first time; services
 * whose targets all have a configured path never need it (unless their plans use the file
 * list: Flux `${VAR}` or `chartRef`, see needsTree).
 */
export class ManifestLocator {
  #tree: { branch: string; files: Promise<string[]> } | undefined;
  readonly #found = new Map<string, string>();
  /** Files a service's plans were seen to need besides its targets (Flux objects, builds). */
  readonly #related = new Map<string, readonly string[]>();
  /** Services whose plans were seen to need the file list (domain needsFileList). */
  readonly #needsTree = new Set<string>();
  /** A service's neighbouring YAML, as last listed (for the claim-user warnings). */
  readonly #neighbours = new Map<string, readonly string[]>();
  /** Claim uses by blob id: a neighbour is parsed once per content, not once per failover. */
  readonly #claimUses = new Map<string, readonly ObjectClaimUse[]>();
  /** Path -> the blob id it had when last parsed. */
  readonly #parsedAt = new Map<string, string>();

  /** Whether the branch's file list is at hand (listed, or being listed): free to use. */
  hasTree(branch: string): boolean {
    return this.#tree?.branch === branch;
  }

  needsTree(service: string): boolean {
    return this.#needsTree.has(service);
  }

  markNeedsTree(service: string): void {
    this.#needsTree.add(service);
  }

  neighboursOf(service: string): readonly string[] {
    return this.#neighbours.get(service) ?? [];
  }

  rememberNeighbours(service: string, paths: readonly string[]): void {
    this.#neighbours.set(service, paths);
  }

  /** The claim uses of the blob, when parsed before. */
  claimUses(blobId: string): readonly ObjectClaimUse[] | undefined {
    const uses = this.#claimUses.get(blobId);
    if (uses !== undefined) {
      // Most recently used last: the first key is the one to drop when full.
      this.#claimUses.delete(blobId);
      this.#claimUses.set(blobId, uses);
    }
    return uses;
  }

  rememberClaimUses(path: string, blobId: string, uses: readonly ObjectClaimUse[]): void {
    this.#claimUses.delete(blobId);
    this.#claimUses.set(blobId, uses);
    this.#parsedAt.delete(path);
    this.#parsedAt.set(path, blobId);
    for (const cache of [this.#claimUses, this.#parsedAt] as Map<string, unknown>[]) {
      while (cache.size > MAX_PARSED_FILES) {
        const oldest = cache.keys().next().value;
        if (oldest === undefined) break;
        cache.delete(oldest);
      }
    }
  }

  /**
   * Whether the path's claim uses are known for the content it had when last parsed: then a
   * read needs only its blob id (still that content: use them; another: read it next time).
   */
  parsedBefore(path: string): boolean {
    const id = this.#parsedAt.get(path);
    return id !== undefined && this.#claimUses.has(id);
  }

  /** The path's content changed since it was parsed: read its text next time. */
  forgetParsed(path: string): void {
    this.#parsedAt.delete(path);
  }

  relatedOf(service: string): readonly string[] {
    return this.#related.get(service) ?? [];
  }

  relate(service: string, paths: readonly string[]): void {
    this.#related.set(service, [...new Set([...this.relatedOf(service), ...paths])]);
  }

  /** The head the remembered tree was last seen at (undefined: not yet known). */
  #treeHead: string | undefined;

  /**
   * Whether the tree is known to belong to `head`. The first head seen with a tree is taken
   * as its head; a later, different head means files may have come or gone since it was
   * listed, so it is forgotten and listed again.
   */
  treeIsCurrent(head: string): boolean {
    if (this.#tree === undefined) return false;
    if (this.#treeHead === undefined) this.#treeHead = head;
    if (this.#treeHead === head) return true;
    this.#tree = undefined;
    this.#treeHead = undefined;
    return false;
  }

  /** All file paths of the branch (remembered). */
  tree(repo: GitOpsRepo, branch: string): Promise<string[]> {
    if (this.#tree?.branch !== branch) {
      this.#treeHead = undefined;
      const files = repo.listFiles(branch, "").catch((error: unknown) => {
        this.#tree = undefined;
        throw error;
      });
      this.#tree = { branch, files };
    }
    return this.#tree.files;
  }

  async place(repo: GitOpsRepo, branch: string, spec: ServiceSpec): Promise<PlacedTarget[]> {
    return Promise.all(
      spec.targets.map(async (target, index) => ({
        spec: target,
        path: await this.#locate(repo, branch, spec, target, index),
      })),
    );
  }

  async #locate(
    repo: GitOpsRepo,
    branch: string,
    spec: ServiceSpec,
    target: TargetSpec,
    index: number,
  ): Promise<string> {
    if (target.path !== undefined) return target.path;
    if (target.type === "field") return target.path;
    const key = `${spec.name}#${index}`;
    const cached = this.#found.get(key);
    if (cached !== undefined) return cached;
    const candidates = manifestCandidates(target, spec.namespace, await this.tree(repo, branch));
    const [only, ...rest] = candidates;
    const what =
      target.type === "workload"
        ? `${target.workload.name}/deployment.yaml`
        : `${target.release.name}/helmrelease.yaml`;
    if (only === undefined || rest.length > 0) {
      throw new FailoverError(
        "refused",
        only === undefined
          ? `no manifest found for service "${spec.name}": looked for */${what} in ${repo.description}; set "path" for the service in the config (the file holding its ${target.type === "workload" ? "Deployment or StatefulSet" : "HelmRelease"})`
          : `several manifests could be service "${spec.name}": ${candidates.join(", ")}; set "path" for the service in the config`,
        { details: { service: spec.name, candidates } },
      );
    }
    this.#found.set(key, only);
    return only;
  }

  /** A located file was missing: search again next time (and list the tree anew). */
  forget(service: string): void {
    for (const key of [...this.#found.keys()]) {
      if (key.startsWith(`${service}#`)) this.#found.delete(key);
    }
    this.#related.delete(service);
    this.#neighbours.delete(service);
    this.#tree = undefined;
  }
}
