import { FailoverError } from "../domain/errors.js";
import { manifestCandidates } from "../domain/manifest-path.js";
import type { ServiceSpec } from "../domain/service.js";
import type { GitOpsRepo } from "../repo/port.js";

/**
 * Where a service's manifest lives: the configured path, else the seed's search. Search
 * results are remembered per service and forgotten when the file disappears, so a
 * failover costs a tree listing only the first time.
 */
export class ManifestLocator {
  readonly #found = new Map<string, string>();

  async locate(repo: GitOpsRepo, branch: string, spec: ServiceSpec): Promise<string> {
    if (spec.path !== undefined) return spec.path;
    const cached = this.#found.get(spec.name);
    if (cached !== undefined) return cached;
    const files = await repo.listFiles(branch, "");
    const candidates = manifestCandidates(spec, files);
    const [only, ...rest] = candidates;
    if (only === undefined || rest.length > 0) {
      throw new FailoverError(
        "refused",
        only === undefined
          ? `no manifest found for service "${spec.name}": looked for */${spec.target.name}/deployment.yaml in ${repo.description}; set "path" for the service in the config`
          : `several manifests could be service "${spec.name}": ${candidates.join(", ")}; set "path" for the service in the config`,
        { details: { service: spec.name, candidates } },
      );
    }
    this.#found.set(spec.name, only);
    return only;
  }

  forget(service: string): void {
    this.#found.delete(service);
  }
}
