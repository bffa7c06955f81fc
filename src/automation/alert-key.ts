import { createHash } from "node:crypto";

/**
 * One alert occurrence: Alertmanager re-sends it (retries, repeat_interval) with the same
 * group key, fingerprint and startsAt. The status is part of it: firing and resolved are
 * two different requests.
 */
export function alertKey(parts: {
  groupKey: string;
  fingerprint: string;
  startsAt: string;
  status: string;
}): string {
  return createHash("sha256")
    .update(
      [parts.groupKey, parts.fingerprint, Date.parse(parts.startsAt), parts.status].join("\0"),
    )
    .digest("hex")
    .slice(0, 24);
}
