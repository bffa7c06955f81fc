import { parseFailoverCommit, TRAILER_KEYS } from "../domain/commit-message.js";
import { originalsPath } from "../domain/originals.js";
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
  const spec = findService(ctx, service);
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
  // Bounded on any history length: found by the trailer every failover commit carries.
  const entries = await ctx.repo.history(at.branch, {
    trailer: `${TRAILER_KEYS.service}: ${service}`,
    paths,
    limit: Math.min(limit * 2, 100),
  });
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
