import { FailoverError } from "../domain/errors.js";
import { LOCKS_DIR, type Lock, lockPath, parseLock } from "../domain/lock.js";
import { fluxKustomizationCandidates, siblingsOf } from "../domain/manifest-path.js";
import type { ServiceSpec } from "../domain/service.js";
import type { PlacedTarget, TargetFiles } from "../domain/targets/engine.js";
import type { FailoverContext } from "./context.js";

/** Everything a plan for some services needs, read from one commit. */
export interface ServicesAtHead {
  readonly branch: string;
  readonly head: string;
  readonly texts: ReadonlyMap<string, string | null>;
  readonly services: readonly ServiceFiles[];
}

export interface ServiceFiles {
  readonly spec: ServiceSpec;
  readonly targets: readonly PlacedTarget[];
  readonly files: TargetFiles;
  /** Other YAML in the targets' directories (for "other users of the claim" warnings). */
  readonly siblings: readonly { path: string; text: string }[];
  readonly lock: Lock | undefined;
}

/**
 * Reads the head and every file the services' plans need in ONE repository read: target
 * manifests, their sibling YAML, the services' lock files and, for services using Flux
 * substitutions, the candidate Flux Kustomizations. A service seen using `${VAR}` for the
 * first time costs one more read; it is remembered.
 */
export async function readServices(
  ctx: FailoverContext,
  specs: readonly ServiceSpec[],
): Promise<ServicesAtHead> {
  const branch = await ctx.branch();
  for (let attempt = 0; attempt < 3; attempt++) {
    const tree = await ctx.locator.tree(ctx.repo, branch);
    const placed = await Promise.all(
      specs.map((spec) => ctx.locator.place(ctx.repo, branch, spec)),
    );
    const plan = specs.map((spec, i) => {
      const targets = placed[i] ?? [];
      const targetPaths = targets.map((t) => t.path);
      const siblings = [...new Set(targetPaths.flatMap((p) => siblingsOf(p, tree)))].filter(
        (p) => !targetPaths.includes(p) && !p.startsWith(`${LOCKS_DIR}/`),
      );
      const kustomizations = ctx.locator.usesSubstitution(spec.name)
        ? fluxKustomizationCandidates(targetPaths, tree)
        : [];
      return { spec, targets, targetPaths, siblings, kustomizations };
    });
    const paths = new Set<string>();
    for (const p of plan) {
      for (const path of [
        ...p.targetPaths,
        ...p.siblings,
        ...p.kustomizations,
        lockPath(p.spec.name),
      ]) {
        paths.add(path);
      }
    }
    const snapshot = await ctx.repo.read(branch, [...paths]);
    const missing = plan.filter((p) =>
      p.targetPaths.some((path) => snapshot.files.get(path) == null),
    );
    if (missing.length > 0) {
      const configured = missing.find((p) =>
        p.targets.some((t) => t.spec.path !== undefined && snapshot.files.get(t.path) == null),
      );
      if (configured !== undefined) {
        const path = configured.targets.find((t) => snapshot.files.get(t.path) == null)?.path;
        throw new FailoverError(
          "not_found",
          `manifest ${path} of service "${configured.spec.name}" does not exist on ${branch} (${ctx.repo.description}); fix "path" in the config`,
          { details: { service: configured.spec.name, path, head: snapshot.head } },
        );
      }
      for (const p of missing) ctx.locator.forget(p.spec.name); // moved: search again
      continue;
    }
    const substituting = plan.filter(
      (p) =>
        !ctx.locator.usesSubstitution(p.spec.name) &&
        p.targetPaths.some((path) => snapshot.files.get(path)?.includes("${")),
    );
    if (substituting.length > 0) {
      for (const p of substituting) ctx.locator.markSubstitution(p.spec.name);
      continue; // read again, with their Flux Kustomizations
    }
    const texts = snapshot.files;
    const services = plan.map((p): ServiceFiles => {
      const lockText = texts.get(lockPath(p.spec.name));
      return {
        spec: p.spec,
        targets: p.targets,
        files: { texts, kustomizations: p.kustomizations },
        siblings: p.siblings.flatMap((path) => {
          const text = texts.get(path);
          return typeof text === "string" ? [{ path, text }] : [];
        }),
        lock: typeof lockText === "string" ? parseLock(lockText, p.spec.name) : undefined,
      };
    });
    return { branch, head: snapshot.head, texts, services };
  }
  throw new FailoverError(
    "conflict",
    "the repository kept changing while its files were read; try again",
  );
}
