import { FailoverError } from "../domain/errors.js";
import { describeLock } from "../domain/lock.js";
import type { ServiceSpec } from "../domain/service.js";
import { inspectTargets } from "../domain/targets/engine.js";
import { withParseMemo } from "../domain/yaml/parse-manifest.js";
import type { FailoverContext } from "./context.js";
import { findService } from "./find-service.js";
import { readServices, type ServiceFiles, type ServicesAtHead } from "./read-service.js";
import type { CachedStatus, ProbedHead } from "./status-cache.js";
import type { AllStatus, ServiceStatus } from "./status-types.js";

export type { AllStatus, ServiceStatus } from "./status-types.js";

/**
 * A service's state at the branch head. Served from the status cache while the head has not
 * moved (one cheap probe, a 304 on GitHub), else read in one repository read.
 */
export async function getStatus(ctx: FailoverContext, service: string): Promise<ServiceStatus> {
  const spec = findService(ctx, service);
  const [found] = (await statusesAtHead(ctx, [spec])).found;
  if (found === undefined) throw new Error("no status computed");
  if (found.refusal !== undefined) throw found.refusal;
  return found.status;
}

/**
 * Every configured service's status (sorted by name) from ONE repository read, or from the
 * cache while the head has not moved. A service whose files cannot be found, read or moved,
 * or whose config cannot be applied to them, is `unknown` with a `reason`: one service never
 * fails the whole answer.
 */
export async function getAllStatus(ctx: FailoverContext): Promise<AllStatus> {
  const specs = [...ctx.config().services.values()].sort((a, b) => a.name.localeCompare(b.name));
  const { branch, head, found } = await statusesAtHead(ctx, specs);
  return { branch, head, services: found.map((f) => f.status) };
}

async function statusesAtHead(
  ctx: FailoverContext,
  specs: readonly ServiceSpec[],
): Promise<{ branch: string; head: string; found: CachedStatus[] }> {
  const cache = ctx.statusCache;
  let probed: ProbedHead | undefined;
  if (cache !== undefined) {
    const branch = await ctx.branch();
    probed = await cache.probe(ctx.repo, branch);
    const { head } = probed;
    const hits = specs.flatMap((spec) => cache.get(branch, head, spec) ?? []);
    if (hits.length === specs.length) return { branch, head, found: hits };
  }
  // A miss reads every asked service again: one read either way, and all from one commit.
  const at = await readServices(ctx, specs);
  const found = withParseMemo(() => at.services.map((files) => computeStatus(at, files)));
  if (cache !== undefined && probed !== undefined) {
    cache.store(at.branch, probed.generation, at.head, found);
  }
  return { branch: at.branch, head: at.head, found };
}

function computeStatus(at: ServicesAtHead, files: ServiceFiles): CachedStatus {
  const { spec } = files;
  const service = spec.name;
  const lockWarnings = files.lock === undefined ? [] : [describeLock(files.lock)];
  let inspection: ReturnType<typeof inspectTargets>;
  try {
    if (files.error !== undefined) throw files.error;
    inspection = inspectTargets(files.files, files.targets);
  } catch (error) {
    // What cannot be found, read or moved is a state too; other refusals (a config that
    // cannot apply to the files) refuse a single status and show as unknown among all.
    if (!(error instanceof FailoverError)) throw error;
    const status: ServiceStatus = {
      service,
      state: "unknown",
      observed: { nodes: [], claims: [], values: [] },
      paths: files.targets.map((t) => t.path),
      branch: at.branch,
      head: at.head,
      locked: files.lock,
      warnings: lockWarnings,
      reason: error.message,
    };
    return UNKNOWN_CODES.has(error.code) ? { spec, status } : { spec, status, refusal: error };
  }
  const distinct = (role: string) => [
    ...new Set(inspection.observed.filter((o) => o.role === role).map((o) => o.value)),
  ];
  return {
    spec,
    status: {
      service,
      state: inspection.state,
      observed: {
        nodes: distinct("node"),
        claims: distinct("claim"),
        values: inspection.observed,
      },
      paths: files.targets.map((t) => t.path),
      branch: at.branch,
      head: at.head,
      locked: files.lock,
      warnings: [...inspection.warnings, ...lockWarnings],
    },
  };
}

/** Errors about the service's own files (not about the request or the backend). */
const UNKNOWN_CODES = new Set<string>(["refused", "not_found"]);
