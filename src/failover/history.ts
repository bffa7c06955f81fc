import { parseFailoverCommit, TRAILER_KEYS } from "../domain/commit-message.js";
import { originalsPath } from "../domain/originals.js";
import type { ServiceSpec } from "../domain/service.js";
import type { GitOpsRepo, HistoryEntry } from "../repo/port.js";
import type { FailoverContext } from "./context.js";
import { findService } from "./find-service.js";
import { readServices } from "./read-service.js";

export interface HistoryItem {
  readonly sha: string;
  readonly url: string | undefined;
  readonly date: string;
  readonly action: string;
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly node: string | undefined;
  readonly trigger: string | undefined;
  readonly requester: string | undefined;
  readonly headline: string;
}

/**
 * Past failovers of a service, newest first, from the history of its files: every commit
 * whose trailers name it (urgent commits, merged PRs, node-wide commits).
 */
export async function getHistory(
  ctx: FailoverContext,
  service: string,
  limit: number,
): Promise<HistoryItem[]> {
  const { branch, paths } = await historyPaths(ctx, findService(ctx, service));
  // Bounded on any history length: found by the trailer every failover commit carries. Lock
  // and unlock commits carry it too and are no failover: when they fill the first answer, a
  // longer one is asked for (one lock and unlock hid the last failover from a request for one).
  let want = Math.min(limit * 2, HISTORY_LOOKBACK);
  for (;;) {
    const entries = await ctx.repo.history(branch, {
      trailer: `${TRAILER_KEYS.service}: ${service}`,
      paths,
      limit: want,
    });
    const items = failoverItems(entries, service, limit);
    if (items.length >= limit || entries.length < want || want >= HISTORY_LOOKBACK) return items;
    want = Math.min(want * 4, HISTORY_LOOKBACK);
  }
}

/** The most commits naming a service that a history request looks at. */
const HISTORY_LOOKBACK = 100;

function failoverItems(
  entries: readonly HistoryEntry[],
  service: string,
  limit: number,
): HistoryItem[] {
  const seen = new Set<string>();
  const items: HistoryItem[] = [];
  for (const entry of entries) {
    if (seen.has(entry.sha)) continue;
    seen.add(entry.sha);
    const parsed = parseFailoverCommit(entry.message);
    const move = parsed?.moves.find((m) => m.service === service);
    if (parsed === null || move === undefined) continue;
    items.push({
      sha: entry.sha,
      url: entry.url,
      date: entry.date,
      action: move.action,
      from: move.from,
      to: move.to,
      node: parsed.node,
      trigger: parsed.trigger,
      requester: parsed.requester,
      headline: entry.message.split("\n")[0] ?? "",
    });
    if (items.length >= limit) break;
  }
  return items;
}

/**
 * How many of each file's commits the request search looks at. On GitHub, which cannot
 * search messages, it is also how far back each file's history is walked (one page of 100).
 */
const REQUEST_LOOKBACK = 100;

/**
 * The commit of a request on the service's files: the one whose `Failover-Request` trailer
 * is `requestId`, or undefined. `head`: the head read just before the search; `paths`: the
 * files searched. When nothing is found, no commit of this request touching `paths` is in
 * that head's history (within REQUEST_LOOKBACK commits of each file; the search reads the
 * branch at that head or after it), so a compare-and-swap write on that head touching only
 * `paths` cannot repeat the request.
 */
export async function findRequestCommit(
  ctx: FailoverContext,
  spec: ServiceSpec,
  requestId: string,
): Promise<{
  readonly head: string;
  readonly paths: ReadonlySet<string>;
  readonly commit: HistoryEntry | undefined;
}> {
  const { branch, head, paths } = await historyPaths(ctx, spec);
  const commit = await requestCommit(ctx.repo, branch, paths, requestId);
  return { head, paths: new Set(paths), commit };
}

/** The newest commit on `branch` touching one of `paths` whose `Failover-Request` is `requestId`. */
export async function requestCommit(
  repo: GitOpsRepo,
  branch: string,
  paths: readonly string[],
  requestId: string,
): Promise<HistoryEntry | undefined> {
  const [commit] = await repo.history(branch, {
    trailer: `${TRAILER_KEYS.request}: ${requestId}`,
    paths,
    limit: REQUEST_LOOKBACK,
  });
  return commit;
}

/** The files whose history holds a service's failover commits, from one read. */
async function historyPaths(
  ctx: FailoverContext,
  spec: ServiceSpec,
): Promise<{ branch: string; head: string; paths: string[] }> {
  // One read: the files whose history a backend without message search walks.
  const at = await readServices(ctx, [spec]);
  const files = at.services[0];
  const paths = [
    ...new Set([
      ...(files?.targets.map((t) => t.path) ?? []),
      ...(files?.files.kustomizations.filter((k) => typeof at.texts.get(k) === "string") ?? []),
      originalsPath(spec.name),
    ]),
  ];
  return { branch: at.branch, head: at.head, paths };
}
