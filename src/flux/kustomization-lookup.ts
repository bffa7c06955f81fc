import {
  fluxKustomizationsIn,
  kustomizationsBuilding,
} from "../domain/automation/kustomization-match.js";
import { FailoverError } from "../domain/errors.js";
import type { FailoverContext } from "../failover/context.js";
import { readServices } from "../failover/read-service.js";
import type { Operation } from "../operations/operation.js";

/** The most files read to find Flux Kustomizations (one repository read). */
const MAX_CANDIDATES = 300;
const YAML = /\.ya?ml$/;
/** Where Flux Kustomizations usually live: `ks.yaml` beside an app, or a flux/ or clusters/ tree. */
const LIKELY = /(^|\/)(ks\.ya?ml|flux\/.*|clusters\/.*)$/;

/**
 * Which Kustomizations (`namespace/name`) apply an operation's services, from the
 * repository: one tree listing (cached) and one read of the likely files. Undefined when
 * none is found, and then any Kustomization reconciling the commit confirms. Rejects when it
 * cannot be told (a read failed, a service no longer configured): the confirmation then
 * decides nothing rather than let any Kustomization confirm.
 */
export function kustomizationLookup(
  ctx: FailoverContext,
): (op: Operation) => Promise<ReadonlySet<string> | undefined> {
  return async (op) => {
    const services = ctx.config().services;
    const unknown = op.services.filter((s) => !services.has(s));
    if (unknown.length > 0 || op.services.length === 0) {
      throw new FailoverError(
        "not_found",
        `${unknown.length > 0 ? unknown.join(", ") : "the operation's services"} not in the services config: cannot tell which manifests to look for`,
      );
    }
    const specs = op.services.flatMap((s) => services.get(s) ?? []);
    const at = await readServices(ctx, specs);
    const manifests = at.services.flatMap((s) => s.targets.map((t) => t.path));
    const configured = specs.flatMap((s) =>
      s.fluxKustomization === undefined ? [] : [s.fluxKustomization],
    );
    const tree = await ctx.locator.tree(ctx.repo, at.branch);
    const candidates = [
      ...new Set([...configured, ...tree.filter((f) => YAML.test(f) && LIKELY.test(f))]),
    ].slice(0, MAX_CANDIDATES);
    const snapshot = await ctx.repo.read(at.branch, candidates);
    const found = [...snapshot.files.values()].flatMap((text) =>
      typeof text === "string" && text.includes("kustomize.toolkit.fluxcd.io")
        ? fluxKustomizationsIn(text)
        : [],
    );
    const ids = kustomizationsBuilding(manifests, found);
    return ids.size === 0 ? undefined : ids;
  };
}
