import { FailoverError } from "../domain/errors.js";
import { LOCKS_DIR, type Lock, lockPath, parseLock } from "../domain/lock.js";
import { siblingsOf } from "../domain/manifest-path.js";
import { ORIGINALS_DIR, originalsPath } from "../domain/originals.js";
import type { ServiceSpec } from "../domain/service.js";
import type { PlacedTarget, TargetFiles } from "../domain/targets/engine.js";
import { relatedFiles } from "../domain/targets/related-files.js";
import type { PullRequestInfo } from "../repo/change-requests.js";
import type { FailoverBranchState } from "../repo/port.js";
import type { FailoverContext } from "./context.js";

/** Everything a plan for some services needs, read from one commit. */
export interface ServicesAtHead {
  readonly branch: string;
  readonly head: string;
  readonly texts: ReadonlyMap<string, string | null>;
  readonly services: readonly ServiceFiles[];
  /**
   * With pull requests configured: the open failover PRs into `branch` and the `failover/*`
   * branches, from the same read (Snapshot fields; absent when the backend could not say).
   * Hand them to pull-request-flow (closeSuperseded*, deliverByPullRequest) to save its lookups.
   */
  readonly openFailoverPullRequests?: readonly PullRequestInfo[];
  readonly failoverBranches?: ReadonlyMap<string, FailoverBranchState>;
}

export interface ServiceFiles {
  readonly spec: ServiceSpec;
  readonly targets: readonly PlacedTarget[];
  readonly files: TargetFiles;
  /** Other YAML in the targets' directories (for "other users of the claim" warnings). */
  readonly siblings: readonly { path: string; text: string }[];
  readonly lock: Lock | undefined;
  /**
   * Why the service's files could not be found (no manifest, several candidates, a configured
   * path that does not exist): reported for this service alone, so a node-wide failover still
   * moves the others.
   */
  readonly error?: FailoverError;
}

/** Reads that a first request for a service may take: each follows what the previous read showed. */
const MAX_READS = 6;

/**
 * Reads the head and every file the services' plans need in ONE repository read: target
 * manifests, their sibling YAML, the services' lock and originals files and, for services
 * using Flux substitutions or chart references, the Flux objects and builds they depend on
 * (domain/targets/related-files.ts). What those are is learnt from the files themselves, so
 * the first request for a service may read a few times; the locator remembers the set, and
 * later requests read once.
 */
export async function readServices(
  ctx: FailoverContext,
  specs: readonly ServiceSpec[],
  options: {
    /**
     * Also read the open failover PRs and `failover/*` branches (ServicesAtHead fields), for
     * a failover that may close or open one. Default: whenever PRs are configured; a status
     * read can pass false.
     */
    readonly pullRequests?: boolean;
  } = {},
): Promise<ServicesAtHead> {
  const branch = await ctx.branch();
  const withPullRequests = ctx.pullRequests !== undefined && options.pullRequests !== false;
  for (let attempt = 0; attempt < MAX_READS; attempt++) {
    const tree = await ctx.locator.tree(ctx.repo, branch);
    const placed = await Promise.all(
      specs.map((spec) =>
        ctx.locator.place(ctx.repo, branch, spec).then(
          (targets) => ({ targets, error: undefined }),
          (error: unknown) => {
            if (!(error instanceof FailoverError)) throw error;
            return { targets: [] as PlacedTarget[], error };
          },
        ),
      ),
    );
    const plan = specs.map((spec, i) => {
      const { targets, error } = placed[i] ?? { targets: [], error: undefined };
      const targetPaths = targets.map((t) => t.path);
      const siblings = [...new Set(targetPaths.flatMap((p) => siblingsOf(p, tree)))].filter(
        (p) =>
          !targetPaths.includes(p) &&
          !p.startsWith(`${LOCKS_DIR}/`) &&
          !p.startsWith(`${ORIGINALS_DIR}/`),
      );
      return { spec, targets, targetPaths, siblings, error };
    });
    const paths = new Set<string>();
    for (const p of plan) {
      for (const path of [
        ...p.targetPaths,
        ...p.siblings,
        ...ctx.locator.relatedOf(p.spec.name),
        lockPath(p.spec.name),
        originalsPath(p.spec.name),
      ]) {
        paths.add(path);
      }
    }
    const snapshot = await ctx.repo.read(
      branch,
      [...paths],
      withPullRequests ? { failover: true } : undefined,
    );
    // What other files use a variable is decided from the tree listing: for services that
    // depend on it, a head the tree was not listed at means listing it again.
    const dependsOnTree = plan.some((p) => ctx.locator.relatedOf(p.spec.name).length > 0);
    if (dependsOnTree && !ctx.locator.treeIsCurrent(snapshot.head) && attempt < MAX_READS - 1) {
      continue;
    }
    const texts = snapshot.files;
    const unreadable = snapshot.unreadable ?? new Map<string, string>();
    const missing = plan.filter((p) =>
      p.targetPaths.some((path) => texts.get(path) == null && !unreadable.has(path)),
    );
    const retry: string[] = [];
    const gone = new Map<string, FailoverError>();
    for (const p of missing) {
      const configured = p.targets.find(
        (t) => t.spec.path !== undefined && texts.get(t.path) == null,
      );
      if (configured === undefined) {
        retry.push(p.spec.name); // moved: search again
        continue;
      }
      gone.set(
        p.spec.name,
        new FailoverError(
          "not_found",
          `manifest ${configured.path} of service "${p.spec.name}" does not exist on ${branch} (${ctx.repo.description}); fix "path" in the config`,
          { details: { service: p.spec.name, path: configured.path, head: snapshot.head } },
        ),
      );
    }
    if (retry.length > 0 && attempt < MAX_READS - 1) {
      for (const name of retry) ctx.locator.forget(name);
      continue;
    }
    const related = plan.map((p) =>
      p.error !== undefined || gone.has(p.spec.name)
        ? { kustomizations: [], related: [] }
        : relatedFiles({
            targets: p.targetPaths,
            texts,
            tree,
            fluxKustomization: p.spec.fluxKustomization,
            names: [p.spec.name, ...p.targets.flatMap((t) => nameOf(t))],
            restorable: texts.get(originalsPath(p.spec.name)),
          }),
    );
    let unread = false;
    plan.forEach((p, i) => {
      const needed = [...(related[i]?.kustomizations ?? []), ...(related[i]?.related ?? [])];
      if (needed.length === 0) return;
      // Remembered even when all was read: later reads take them at once, and know the
      // service depends on the tree listing.
      ctx.locator.relate(p.spec.name, needed);
      if (needed.some((f) => !texts.has(f))) unread = true;
    });
    if (unread && attempt < MAX_READS - 1) continue; // read again, with what they showed
    const services = plan.map((p, i): ServiceFiles => {
      const lockText = texts.get(lockPath(p.spec.name));
      const r = related[i] ?? { kustomizations: [], related: [] };
      const cannotRead = [...p.targetPaths, originalsPath(p.spec.name)].find((path) =>
        unreadable.has(path),
      );
      const error =
        p.error ??
        gone.get(p.spec.name) ??
        (cannotRead === undefined
          ? undefined
          : new FailoverError(
              "refused",
              `${cannotRead} of service "${p.spec.name}" cannot be read on ${branch}: it is ${unreadable.get(cannotRead)}, and failover edits text files only`,
              { details: { service: p.spec.name, path: cannotRead } },
            )) ??
        (retry.includes(p.spec.name)
          ? new FailoverError(
              "not_found",
              `the manifests of service "${p.spec.name}" kept moving; try again`,
            )
          : undefined);
      return {
        spec: p.spec,
        targets: p.targets,
        files: {
          texts,
          kustomizations: r.kustomizations.filter((k) => texts.has(k)),
          tree,
          unreadable,
          originals: { service: p.spec.name, path: originalsPath(p.spec.name) },
        },
        siblings: p.siblings.flatMap((path) => {
          const text = texts.get(path);
          return typeof text === "string" ? [{ path, text }] : [];
        }),
        lock:
          typeof lockText === "string"
            ? parseLock(lockText, p.spec.name)
            : unreadable.has(lockPath(p.spec.name))
              ? {
                  service: p.spec.name,
                  by: "unknown",
                  reason: "",
                  at: "",
                  problem: `${lockPath(p.spec.name)} cannot be read: it is ${unreadable.get(lockPath(p.spec.name))}`,
                }
              : undefined,
        ...(error === undefined ? {} : { error }),
      };
    });
    return {
      branch,
      head: snapshot.head,
      texts,
      services,
      ...(snapshot.openFailoverPullRequests === undefined
        ? {}
        : { openFailoverPullRequests: snapshot.openFailoverPullRequests }),
      ...(snapshot.failoverBranches === undefined
        ? {}
        : { failoverBranches: snapshot.failoverBranches }),
    };
  }
  throw new FailoverError(
    "conflict",
    "the repository kept changing while its files were read; try again",
  );
}

function nameOf(target: PlacedTarget): string[] {
  const spec = target.spec;
  if (spec.type === "workload") return [spec.workload.name];
  if (spec.type === "helmrelease") return [spec.release.name];
  return [];
}
