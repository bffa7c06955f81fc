import { isMap, isScalar, parseDocument, visit } from "yaml";

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
  /**
   * Set when the lock file is not a clearly valid one: it LOCKS all the same (fail closed),
   * until someone fixes it or unlocks (which rewrites it). Says what is wrong.
   */
  readonly problem?: string;
}

const FIELDS = new Set(["locked", "service", "by", "reason", "at"]);

/**
 * The lock a service's lock file holds, or undefined when it unlocks. Fails closed: only a
 * well-formed file saying `locked: false` (the YAML boolean, lowercase, as renderLock writes
 * it) unlocks. Anything else locks: `locked: "false"`, `no`, `0`, `False`; a duplicate key,
 * an anchor, alias or tag; a missing or different `service`; an unknown field; a value of
 * the wrong type; invalid YAML, several documents, a file that is not a map, an empty file.
 * Such a lock carries `problem`.
 */
export function parseLock(text: string, service: string): Lock | undefined {
  const checked = checkLockFile(text, service);
  if (typeof checked === "string") {
    return { service, by: "unknown", reason: "", at: "", problem: checked };
  }
  return checked.locked ? checked.lock : undefined;
}

/**
 * The lock a service's lock file holds as the repository read it: its text, `null` when it
 * is absent or could not be read, and `unreadable` saying why when it could not (binary, too
 * large). A file that exists but cannot be read locks (fail closed), like an invalid one.
 */
export function lockFromFile(
  service: string,
  text: string | null | undefined,
  unreadable: string | undefined,
): Lock | undefined {
  if (typeof text === "string") return parseLock(text, service);
  if (unreadable === undefined) return undefined;
  const problem = `${lockPath(service)} cannot be read: it is ${unreadable}`;
  return { service, by: "unknown", reason: "", at: "", problem };
}

function checkLockFile(text: string, service: string): string | { locked: boolean; lock: Lock } {
  const doc = parseDocument(text, { uniqueKeys: true, version: "1.2", prettyErrors: false });
  const error = doc.errors[0] ?? doc.warnings[0];
  if (error !== undefined) return `invalid YAML: ${firstLine(error.message)}`;
  let decorated: string | undefined;
  visit(doc, {
    Alias() {
      decorated = "it uses a YAML alias";
      return visit.BREAK;
    },
    Node(_key, node) {
      if (node.anchor !== undefined) decorated = "it uses a YAML anchor";
      else if (node.tag !== undefined) decorated = `it uses the YAML tag ${node.tag}`;
      return decorated === undefined ? undefined : visit.BREAK;
    },
  });
  if (decorated !== undefined) return decorated;
  const root = doc.contents;
  if (!isMap(root)) return "it is not a map of fields (locked, service, by, reason, at)";
  const values = new Map<string, unknown>();
  let lockedSource: string | undefined;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    if (typeof key !== "string" || !FIELDS.has(key)) {
      return `unknown field ${JSON.stringify(String(isScalar(pair.key) ? pair.key.value : pair.key)).slice(0, 60)}`;
    }
    if (!isScalar(pair.value)) return `${key} must be a single value`;
    values.set(key, pair.value.value);
    if (key === "locked") {
      const range = pair.value.range;
      lockedSource = range === undefined ? undefined : text.slice(range[0], range[1]);
    }
  }
  if (!values.has("locked")) return "the field locked is missing";
  const locked = values.get("locked");
  if (typeof locked !== "boolean" || (lockedSource !== "true" && lockedSource !== "false")) {
    return `locked must be true or false (unquoted, lowercase), found ${describe(lockedSource ?? locked)}`;
  }
  const named = values.get("service");
  if (named === undefined) return "the field service is missing";
  if (named !== service) return `it names the service ${describe(named)}, not "${service}"`;
  const strings: Record<string, string> = {};
  for (const field of ["by", "reason", "at"] as const) {
    const value = values.has(field) ? values.get(field) : "";
    if (typeof value !== "string") return `${field} must be a string, found ${describe(value)}`;
    strings[field] = value;
  }
  return {
    locked,
    lock: {
      service,
      by: strings.by === "" || strings.by === undefined ? "unknown" : strings.by,
      reason: strings.reason ?? "",
      at: strings.at ?? "",
    },
  };
}

function firstLine(message: string): string {
  return (message.split("\n")[0] ?? "").slice(0, 200);
}

function describe(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value)?.slice(0, 60) ?? String(value);
}

/**
 * The lock file's text. Unlocking rewrites it with `locked: false` (who and when) rather
 * than deleting it: the file's history is the lock's audit trail. Always valid for parseLock.
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
  if (lock.problem !== undefined) {
    return `${lock.service} is locked: its lock file ${lockPath(lock.service)} is not valid (${lock.problem}); run /failover unlock ${lock.service} (or POST /api/failover/${lock.service}/unlock) or fix the file`;
  }
  return `${lock.service} is locked by ${lock.by}${lock.at === "" ? "" : ` since ${lock.at}`}${lock.reason === "" ? "" : `: ${lock.reason}`}`;
}

/** Why a failover of a locked service is refused (423), with how to go on. */
export function lockRefusal(lock: Lock): string {
  return lock.problem === undefined
    ? `${describeLock(lock)}; unlock it first (/failover unlock ${lock.service})`
    : describeLock(lock);
}
