import { parse } from "yaml";
import { z } from "zod";

/** Locks live in the GitOps repository, so every replica (and every reader) agrees. */
export const LOCKS_DIR = ".failover/locks";

export function lockPath(service: string): string {
  return `${LOCKS_DIR}/${service}.yaml`;
}

export interface Lock {
  readonly service: string;
  readonly by: string;
  readonly reason: string;
  readonly at: string;
}

const lockFile = z.object({
  locked: z.boolean(),
  service: z.string(),
  by: z.string().default("unknown"),
  reason: z.string().default(""),
  at: z.string().default(""),
});

/** The lock a lock file holds, or undefined when it says unlocked (or is unreadable). */
export function parseLock(text: string): Lock | undefined {
  try {
    const data = lockFile.safeParse(parse(text, { maxAliasCount: 0 }));
    if (!data.success || !data.data.locked) return undefined;
    const { service, by, reason, at } = data.data;
    return { service, by, reason, at };
  } catch {
    return undefined;
  }
}

/**
 * The lock file's text. Unlocking rewrites it with `locked: false` (who and when) rather
 * than deleting it: the file's history is the lock's audit trail.
 */
export function renderLock(lock: Lock & { locked: boolean }): string {
  const quote = (s: string) => JSON.stringify(s);
  return [
    `# failover-api lock for ${lock.service}: while locked is true, failovers of it are refused.`,
    `# Change it with /failover lock|unlock ${lock.service} or the HTTP API, not by hand.`,
    `locked: ${lock.locked}`,
    `service: ${quote(lock.service)}`,
    `by: ${quote(lock.by)}`,
    `reason: ${quote(lock.reason)}`,
    `at: ${quote(lock.at)}`,
    "",
  ].join("\n");
}

export function describeLock(lock: Lock): string {
  return `${lock.service} is locked by ${lock.by}${lock.at === "" ? "" : ` since ${lock.at}`}${lock.reason === "" ? "" : `: ${lock.reason}`}`;
}
