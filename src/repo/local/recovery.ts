import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { FailoverError } from "../../domain/errors.js";

/**
 * Crash safety for the local adapter. A process killed (SIGKILL, OOM, a node reboot) in the
 * middle of a commit can leave: git's own lock files (`refs/heads/<branch>.lock`, `HEAD.lock`,
 * `index.lock`), the checkout's index and work tree still at the parent of a commit that did
 * land (so `git diff --cached` shows the failover reversed), and our temporary index
 * directories. The rules, in one place:
 *
 * - **Our advisory lock** `<git-common-dir>/failover-api/lock` is created with O_EXCL around
 *   the ref update and the work-tree step. It names its owner (pid, a random id per process,
 *   the process start time) and is the journal of that step: branch, old head, new head,
 *   paths. Removed when the step ends, success or not.
 * - **An owner is dead** when it is not this process and either its pid is our own pid (the
 *   pid was reused: a container's pid 1 after a restart), or no process has that pid, or the
 *   process that has it is not the owner: a zombie, or (Linux, /proc) one with another boot id
 *   or start time (`/proc/<pid>/stat` field 22, in clock ticks since boot, recorded by the
 *   owner as `startTicks`; for a record without it, a process that started after the record
 *   was written). A pid alone is weak: pids wrap (32768 by default) and a busy machine reuses
 *   a dead owner's pid within seconds, for a long-lived process that would hold the lock
 *   "alive" forever. An unreadable lock file (killed while writing it) is dead when it is
 *   older than this process.
 * - **Git lock files are ours to remove** only while we hold our lock after taking it over
 *   from a dead owner, and only those created while that owner held it: modified at or after
 *   its lock was taken (1 s slack for coarse timestamps) and before this process started. git's
 *   lock files carry no pid; a person's git holding one in that window is the case this rule
 *   cannot tell apart (it would have to have started while our process was dying).
 * - **Index and work tree** of the checked-out branch are brought to the branch head for the
 *   journal's paths only, and only where what is there is content Git already has: the
 *   failover's parent, the failover itself, or the head (`git checkout <head> -- <path>`).
 *   Anything else is a person's uncommitted edit: left alone and reported.
 * - **Temporary index directories** live in `<git-common-dir>/failover-api/tmp/`, named
 *   `<pid>-<process id>-*`; those of dead owners are removed.
 */

/** This process, as lock files and temporary directories name it. */
export const PROCESS_ID = randomUUID();
/** When this process started (ms since the epoch). */
export const PROCESS_STARTED_MS = Math.floor(performance.timeOrigin);

const SLACK_MS = 1000;

/**
 * What tells a process apart from a later one with the same pid, where the kernel says
 * (Linux): the boot and the start time in clock ticks since boot. Empty elsewhere.
 */
export interface ProcessIdentity {
  readonly boot?: string;
  readonly startTicks?: number;
}

/** `/proc/<pid>/stat`: the state letter (field 3) and the start time (field 22), if readable. */
export function procStat(pid: number | "self"): { state: string; startTicks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTicks = Number(fields[19]);
  if (state === undefined || !Number.isSafeInteger(startTicks)) return undefined;
  return { state, startTicks };
}

function readBootId(): string | undefined {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

function identityOfThisProcess(): ProcessIdentity {
  const boot = readBootId();
  const self = procStat("self");
  return {
    ...(boot === undefined ? {} : { boot }),
    ...(self === undefined ? {} : { startTicks: self.startTicks }),
  };
}

/** This process's identity, written into every lock file it creates. */
export const PROCESS_IDENTITY: ProcessIdentity = identityOfThisProcess();

/**
 * When the process with that start time started (ms since the epoch), from /proc/stat's
 * btime (whole seconds, so up to 1 s early) and USER_HZ, which is 100 on every Linux the
 * kernel's ABI knows (`getconf CLK_TCK`).
 */
function startedMs(startTicks: number): number | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/stat", "utf8");
  } catch {
    return undefined;
  }
  const btime = Number(/^btime (\d+)$/m.exec(text)?.[1]);
  return Number.isSafeInteger(btime) ? btime * 1000 + startTicks * 10 : undefined;
}

export interface LockOwner extends ProcessIdentity {
  readonly pid: number;
  readonly process: string;
  readonly started: number;
  /** When the lock was taken. */
  readonly at: number;
}

/** What the locked step is about to do: the journal a successor recovers from. */
export interface Journal {
  readonly branch: string;
  readonly from: string;
  readonly to: string;
  readonly paths: readonly string[];
}

export type LockRecord = LockOwner & Partial<Journal>;

/**
 * Whether the process that wrote a lock file or named a temporary entry may still be running.
 * `knownAliveAt`: when it was last known alive (the lock's `at`, an entry's mtime); a process
 * at its pid that started later is another one. Without /proc the pid is all there is.
 */
export function isOwnerAlive(
  owner: { readonly pid: number; readonly process: string } & ProcessIdentity,
  knownAliveAt?: number,
): boolean {
  if (owner.process === PROCESS_ID) return true;
  if (owner.pid === process.pid) return false; // same pid, another process: the pid was reused
  if (!Number.isSafeInteger(owner.pid) || owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (PROCESS_IDENTITY.startTicks === undefined) return true; // no /proc here
  const now = procStat(owner.pid);
  if (now === undefined) return false; // exited since the signal
  if (now.state === "Z" || now.state === "X") return false; // a zombie holds nothing
  if (owner.boot !== undefined && PROCESS_IDENTITY.boot !== undefined) {
    if (owner.boot !== PROCESS_IDENTITY.boot) return false; // written before a reboot
    if (owner.startTicks !== undefined) return owner.startTicks === now.startTicks;
  }
  if (knownAliveAt === undefined) return true;
  const born = startedMs(now.startTicks);
  // btime is whole seconds (up to 1 s early) and the wall clock may have been stepped: only a
  // start clearly after the owner was seen alive tells another process.
  return born === undefined || born <= knownAliveAt + SLACK_MS;
}

export interface RepoPaths {
  /** `git rev-parse --git-dir`: HEAD, index. */
  readonly gitDir: string;
  /** `git rev-parse --git-common-dir`: refs, packed-refs, our lock and temp directories. */
  readonly commonDir: string;
}

export function ourDir(paths: RepoPaths): string {
  return join(paths.commonDir, "failover-api");
}

/** A temporary directory for one commit's throw-away index, named after this process. */
export async function makeTempDir(paths: RepoPaths): Promise<string> {
  const root = join(ourDir(paths), "tmp");
  await mkdir(root, { recursive: true });
  return mkdtemp(join(root, `${process.pid}-${PROCESS_ID}-`));
}

/** Removes temporary directories whose owner is dead; returns how many. */
export async function sweepTempDirs(paths: RepoPaths): Promise<number> {
  const root = join(ourDir(paths), "tmp");
  const names = await readdir(root).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const match = /^(\d+)-([0-9a-f-]{36})-/.exec(name);
    const owner = match === null ? undefined : { pid: Number(match[1]), process: match[2] ?? "" };
    if (owner !== undefined && isOwnerAlive(owner, await mtimeOf(join(root, name)))) continue;
    if (owner === undefined && !(await olderThanProcess(join(root, name)))) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** When a file was last modified (ms), if it is there. */
export async function mtimeOf(path: string): Promise<number | undefined> {
  return (await stat(path).catch(() => undefined))?.mtimeMs;
}

async function olderThanProcess(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && info.mtimeMs < PROCESS_STARTED_MS;
}

export interface AcquireOptions {
  /** Bound on waiting for a live owner (another process). */
  readonly timeoutMs: number;
  /** Run with the lock held when it was taken over from a dead owner. */
  readonly recover: (dead: LockRecord | undefined, removedLocks: string[]) => Promise<void>;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `fn` holding the advisory lock, whose content is `journal` and this process. A lock
 * left by a dead owner is taken over: its git lock files are removed and `recover` runs first.
 */
export async function withRepoLock<T>(
  paths: RepoPaths,
  journal: Journal | undefined,
  options: AcquireOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const file = join(ourDir(paths), "lock");
  await mkdir(ourDir(paths), { recursive: true });
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  // Bounded by work, not by the clock: a live owner finishes a ref update and a read-tree.
  const rounds = Math.max(1, Math.ceil(options.timeoutMs / 20));
  for (let round = 0; ; round++) {
    const record: LockRecord = {
      pid: process.pid,
      process: PROCESS_ID,
      started: PROCESS_STARTED_MS,
      ...PROCESS_IDENTITY,
      at: Date.now(),
      ...journal,
    };
    try {
      const handle = await open(file, "wx");
      try {
        await handle.writeFile(JSON.stringify(record));
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const found = await readLock(file);
      if (found === "gone") continue;
      const dead =
        found === "unreadable" ? await olderThanProcess(file) : !isOwnerAlive(found, found.at);
      if (dead) {
        const recovered = await takeOver(
          paths,
          file,
          found === "unreadable" ? undefined : found,
          options,
        );
        if (recovered) continue;
      }
      if (round >= rounds) {
        throw new FailoverError(
          "upstream",
          `the repository is locked by another failover-api process (${file})`,
          { details: found === "unreadable" ? {} : { pid: found.pid } },
        );
      }
      await sleep(20);
      continue;
    }
    try {
      return await fn();
    } finally {
      await unlink(file).catch(() => undefined);
    }
  }
}

/**
 * When the lock is held by a dead owner: recovers what it left and removes its lock. Only
 * one taker wins: the stale file is first renamed aside (atomic), so a concurrent taker sees
 * it gone and starts over.
 */
async function takeOver(
  paths: RepoPaths,
  file: string,
  dead: LockRecord | undefined,
  options: AcquireOptions,
): Promise<boolean> {
  // Take our own lock first (a second file), so two processes never recover at once.
  const recovering = `${file}.recover`;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(recovering, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    // Another recoverer, or one that died: the same liveness rule applies to it.
    const other = await readLock(recovering);
    const otherDead =
      other === "gone" ||
      (other === "unreadable"
        ? await olderThanProcess(recovering)
        : !isOwnerAlive(other, other.at));
    if (otherDead) await unlink(recovering).catch(() => undefined);
    return false;
  }
  try {
    await handle.writeFile(
      JSON.stringify({
        pid: process.pid,
        process: PROCESS_ID,
        started: PROCESS_STARTED_MS,
        ...PROCESS_IDENTITY,
        at: Date.now(),
      }),
    );
    await handle.close();
    handle = undefined;
    // Still the same dead owner's lock? (It may have been recovered meanwhile.)
    const now = await readLock(file);
    if (now === "gone") return true;
    if (dead !== undefined && (now === "unreadable" || now.process !== dead.process)) return true;
    // An owner we could not read may have been replaced by a live one since: not ours to touch.
    if (dead === undefined && now !== "unreadable") return true;
    const since = dead?.at ?? (await stat(file).catch(() => undefined))?.mtimeMs ?? 0;
    const removed = await removeGitLocks(paths, dead?.branch, since);
    await options.recover(dead, removed);
    await unlink(file).catch(() => undefined);
    return true;
  } finally {
    await handle?.close().catch(() => undefined);
    await unlink(recovering).catch(() => undefined);
  }
}

async function readLock(file: string): Promise<LockRecord | "gone" | "unreadable"> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockRecord>;
    if (typeof parsed.pid !== "number" || typeof parsed.process !== "string") return "unreadable";
    // An identity of the wrong shape identifies nothing: judged by pid and time alone.
    const { boot, startTicks, ...rest } = parsed as LockRecord;
    return {
      ...rest,
      ...(typeof boot === "string" ? { boot } : {}),
      ...(typeof startTicks === "number" ? { startTicks } : {}),
    };
  } catch {
    return "unreadable";
  }
}

/** Git lock files our dead predecessor's step creates, if they date from its step. */
async function removeGitLocks(
  paths: RepoPaths,
  branch: string | undefined,
  since: number,
): Promise<string[]> {
  const candidates = [
    join(paths.gitDir, "index.lock"),
    join(paths.gitDir, "HEAD.lock"),
    join(paths.commonDir, "packed-refs.lock"),
  ];
  if (branch !== undefined)
    candidates.push(join(paths.commonDir, "refs", "heads", `${branch}.lock`));
  const removed: string[] = [];
  for (const path of candidates) {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) continue;
    if (info.mtimeMs < since - SLACK_MS || info.mtimeMs >= PROCESS_STARTED_MS) continue;
    await unlink(path).catch(() => undefined);
    removed.push(path);
  }
  return removed;
}
