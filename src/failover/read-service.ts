import { createHash } from "node:crypto";
import { FailoverError } from "../domain/errors.js";
import { LOCKS_DIR, type Lock, lockFromFile, lockPath } from "../domain/lock.js";
import { siblingScope, siblingsOf } from "../domain/manifest-path.js";
import { ORIGINALS_DIR, originalsPath } from "../domain/originals.js";
import type { ServiceSpec } from "../domain/service.js";
import { claimUsesIn, type FileClaimUses } from "../domain/targets/claim-users.js";
import type { PlacedTarget, TargetFiles } from "../domain/targets/engine.js";
import { needsFileList, relatedFiles } from "../domain/targets/related-files.js";
import { withParseMemo } from "../domain/yaml/parse-manifest.js";
import type { PullRequestInfo } from "../repo/change-requests.js";
import type { FailoverBranchState, Snapshot } from "../repo/port.js";
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
  /**
   * Other YAML in the targets' directories, by its claim uses (for the "other users of the
   * claim" warnings; only what `neighbours` asked for, see NeighbourReads).
   */
  readonly neighbours: readonly FileClaimUses[];
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
 * What a read does for the neighbouring YAML, which only the "other users of the claim"
 * warnings use (no check refuses on them: a plan's safety never depends on a neighbour):
 * - "read": list them (the tree at hand, else a listing of the targets' folders only) and read
 *   them whole: a dry run, whose warnings are what it is for;
 * - "known": a real failover: the neighbours already known (remembered from a listing, or
 *   from the tree at hand), by blob id only when their parsed claim uses are cached; no
 *   listing, and no text for what was parsed before;
 * - "none": none (status, history).
 */
export type NeighbourReads = "read" | "known" | "none";

/**
 * Reads the head and every file the services' plans need in ONE repository read: target
 * manifests, the services' lock and originals files and, for services using Flux
 * substitutions or chart references, the Flux objects and builds they depend on
 * (domain/targets/related-files.ts); their sibling YAML as `neighbours` says. What those are
 * is learnt from the files themselves, so the first request for a service may read a few
 * times; the locator remembers the set, and later requests read once. The tree is listed only
 * for services that are searched for or whose plans use the file list, never for services
 * with configured paths alone.
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
    /** Default "none". */
    readonly neighbours?: NeighbourReads;
  } = {},
): Promise<ServicesAtHead> {
  const branch = await ctx.branch();
  const withPullRequests = ctx.pullRequests !== undefined && options.pullRequests !== false;
  const neighbourReads = options.neighbours ?? "none";
  const { locator } = ctx;
  for (let attempt = 0; attempt < MAX_READS; attempt++) {
    // Searching lists the tree (once per process); configured paths need none.
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
    const treeWanted = specs.some(
      (s) => locator.needsTree(s.name) || locator.relatedOf(s.name).length > 0,
    );
    const tree =
      treeWanted || locator.hasTree(branch) ? await locator.tree(ctx.repo, branch) : undefined;
    const scoped = tree === undefined && neighbourReads === "read" ? new Map() : undefined;
    const plan = await Promise.all(
      specs.map(async (spec, i) => {
        const { targets, error } = placed[i] ?? { targets: [], error: undefined };
        const targetPaths = targets.map((t) => t.path);
        const neighbours =
          neighbourReads === "none"
            ? []
            : await neighbourPaths(ctx, branch, spec.name, targetPaths, tree, scoped);
        return { spec, targets, targetPaths, neighbours, error };
      }),
    );
    const paths = new Set<string>();
    const needed = new Set<string>();
    for (const p of plan) {
      for (const path of [
        ...p.targetPaths,
        ...locator.relatedOf(p.spec.name),
        lockPath(p.spec.name),
        originalsPath(p.spec.name),
      ]) {
        paths.add(path);
        needed.add(path);
      }
      for (const path of p.neighbours) paths.add(path);
    }
    // A real failover's neighbours parsed before: their blob id says whether that still holds.
    const textless =
      neighbourReads === "known"
        ? [...paths].filter((path) => !needed.has(path) && locator.parsedBefore(path))
        : [];
    const snapshot = await ctx.repo.read(branch, [...paths], {
      ...(withPullRequests ? { failover: true } : {}),
      ...(textless.length > 0 ? { textless } : {}),
    });
    const texts = snapshot.files;
    // Flux `${VAR}` and `chartRef` plans look for every use in the file list: a service
    // seen to need it is remembered as needing it, and read again with it.
    let listNow = false;
    for (const p of plan) {
      const restorable = texts.get(originalsPath(p.spec.name));
      if (!needsFileList({ targets: p.targetPaths, texts, restorable })) continue;
      if (!locator.needsTree(p.spec.name)) locator.markNeedsTree(p.spec.name);
      if (tree === undefined) listNow = true;
    }
    if (listNow && attempt < MAX_READS - 1) continue;
    // What other files use a variable is decided from the tree listing: for services that
    // depend on it, a head the tree was not listed at means listing it again.
    const dependsOnTree = plan.some(
      (p) => locator.needsTree(p.spec.name) || locator.relatedOf(p.spec.name).length > 0,
    );
    if (dependsOnTree && !locator.treeIsCurrent(snapshot.head) && attempt < MAX_READS - 1) {
      continue;
    }
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
    const related = withParseMemo(() =>
      plan.map((p) =>
        p.error !== undefined || gone.has(p.spec.name)
          ? { kustomizations: [], related: [] }
          : relatedFiles({
              targets: p.targetPaths,
              texts,
              tree: tree ?? [],
              fluxKustomization: p.spec.fluxKustomization,
              names: [p.spec.name, ...p.targets.flatMap((t) => nameOf(t))],
              restorable: texts.get(originalsPath(p.spec.name)),
            }),
      ),
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
          ...(tree === undefined ? {} : { tree }),
          unreadable,
          originals: { service: p.spec.name, path: originalsPath(p.spec.name) },
        },
        neighbours: claimUsesOf(ctx, p.neighbours, snapshot),
        lock: lockFromFile(p.spec.name, lockText, unreadable.get(lockPath(p.spec.name))),
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

/**
 * The YAML next to a service's targets (domain siblingsOf): from the tree when it is at hand;
 * else, for "read", from a listing of the targets' folders alone (`scoped`, shared by the
 * services of one read; directory by directory when GitHub truncates the tree), remembered
 * for later real failovers; else what was remembered.
 */
async function neighbourPaths(
  ctx: FailoverContext,
  branch: string,
  service: string,
  targetPaths: readonly string[],
  tree: readonly string[] | undefined,
  scoped: Map<string, Promise<string[]>> | undefined,
): Promise<string[]> {
  let listed: readonly string[] | undefined = tree;
  if (listed === undefined && scoped !== undefined) {
    const scopes = [...new Set(targetPaths.map(siblingScope))];
    const lists = await Promise.all(
      scopes.map((scope) => {
        let list = scoped.get(scope);
        if (list === undefined) {
          // Warnings only: a folder that cannot be listed leaves its neighbours unchecked.
          list = ctx.repo.listFiles(branch, scope).catch((error: unknown) => {
            if (error instanceof FailoverError) return [];
            throw error;
          });
          scoped.set(scope, list);
        }
        return list;
      }),
    );
    listed = lists.flat();
  }
  if (listed === undefined) return [...ctx.locator.neighboursOf(service)];
  const found = [...new Set(targetPaths.flatMap((p) => siblingsOf(p, listed)))].filter(
    (p) =>
      !targetPaths.includes(p) &&
      !p.startsWith(`${LOCKS_DIR}/`) &&
      !p.startsWith(`${ORIGINALS_DIR}/`),
  );
  ctx.locator.rememberNeighbours(service, found);
  return found;
}

/**
 * The neighbours' claim uses: parsed from their text (once per blob id), or taken from the
 * cache by the blob id the read gave. A neighbour whose content changed since it was parsed
 * is left out this once (its text is read next time); a missing one is left out.
 */
function claimUsesOf(
  ctx: FailoverContext,
  paths: readonly string[],
  snapshot: Snapshot,
): FileClaimUses[] {
  const { locator } = ctx;
  return paths.flatMap((path): FileClaimUses[] => {
    const text = snapshot.files.get(path);
    const id = snapshot.blobIds?.get(path) ?? (typeof text === "string" ? blobId(text) : undefined);
    if (id === undefined) return [];
    const cached = locator.claimUses(id);
    if (typeof text === "string") {
      const uses = cached ?? claimUsesIn({ path, text });
      locator.rememberClaimUses(path, id, uses);
      return [{ path, uses }];
    }
    if (cached !== undefined) return [{ path, uses: cached }];
    locator.forgetParsed(path);
    return [];
  });
}

/** Git's blob id of a text (what GitHub's read gives as the blob's `oid`). */
function blobId(text: string): string {
  return createHash("sha1")
    .update(`blob ${Buffer.byteLength(text, "utf8")}\0`)
    .update(text, "utf8")
    .digest("hex");
}

function nameOf(target: PlacedTarget): string[] {
  const spec = target.spec;
  if (spec.type === "workload") return [spec.workload.name];
  if (spec.type === "helmrelease") return [spec.release.name];
  return [];
}
