import { FailoverError } from "../domain/errors.js";
import { manifestCandidates } from "../domain/manifest-path.js";
import type { ServiceSpec, TargetSpec } from "../domain/service.js";
import type { PlacedTarget } from "../domain/targets/engine.js";
import type { GitOpsRepo } from "../repo/port.js";

/**
 * Where each target's file lives: the configured path, else the seed's search over the
 * repository tree. The tree and the search results are remembered, and forgotten when a
 * file turns out to be missing, so a failover lists the tree only the first time.
 */
export class ManifestLocator {
  #tree: { branch: string; files: Promise<string[]> } | undefined;
  readonly #found = new Map<string, string>();
  /** Files a service's plans were seen to need besides its targets (Flux objects, builds). */
  readonly #related = new Map<string, readonly string[]>();

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
    this.#tree = undefined;
  }
}
