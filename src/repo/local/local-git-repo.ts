import { mkdir, readdir, readFile, stat, unlink } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { FailoverError, StaleHeadError } from "../../domain/errors.js";
import {
  type CommitRequest,
  type CommitResult,
  type FileChange,
  type GitOpsRepo,
  type HeadProbe,
  type HistoryEntry,
  type HistoryRequest,
  MAX_READ_BYTES,
  type SeenHead,
  type Snapshot,
} from "../port.js";
import { type BatchObject, CatFileBatch } from "./cat-file-batch.js";
import { DEFAULT_GIT_TIMEOUT_MS, GitRunner, gitFailure } from "./git-cli.js";
import {
  isOwnerAlive,
  type Journal,
  type LockRecord,
  mtimeOf,
  ourDir,
  PROCESS_ID,
  type RepoPaths,
  sweepTempDirs,
  withRepoLock,
} from "./recovery.js";
import {
  validateBranch,
  validateHistoryRequest,
  validateRepoPath,
  validateSha,
} from "./validate.js";

export const DEFAULT_AUTHOR_NAME = "failover-api";
export const DEFAULT_AUTHOR_EMAIL = "failover-api@localhost";

export interface LocalGitRepoOptions {
  /** The repository (work tree of a non-bare repository, or a bare repository's directory). */
  readonly dir: string;
  readonly authorName?: string;
  readonly authorEmail?: string;
  /** Per git process; default 30 s. */
  readonly timeoutMs?: number;
  /** How long a commit waits for another live process's lock; default `timeoutMs`. */
  readonly lockWaitMs?: number;
  /**
   * Called when the checked-out work tree could not be brought along after a commit, and
   * when a dead process's leftovers were recovered.
   */
  readonly onWarning?: (message: string, error: unknown) => void;
  /** Told of every git process this repository starts (its arguments): tests count them. */
  readonly onGitProcess?: (args: readonly string[]) => void;
}

/** Where a commit is built before it lands: `<prefix><pid>-<process id>-<n>`, ours alone. */
const TEMP_REF_PREFIX = "refs/failover-api/tmp/";
let tempRefCount = 0;

/**
 * The GitOpsRepo port over a repository on disk, through the git CLI, with as few git
 * processes as it can: reads go through one long-lived `git cat-file --batch`; a commit is
 * built by one `git fast-import` (blobs, trees and the commit, from the parent's tree, no
 * index) on a temporary ref of ours, and lands with one `git update-ref --stdin` transaction
 * (compare-and-swap on the branch, the temporary ref deleted); a checked-out work tree takes
 * two more (refresh, `read-tree -m -u`). The ref update and the work-tree step run under an
 * advisory lock that journals them, so what a killed process leaves behind is recovered by
 * the next one (rules in recovery.ts).
 */
export class LocalGitRepo implements GitOpsRepo {
  readonly description: string;
  readonly dir: string;
  readonly #git: GitRunner;
  readonly #onWarning: ((message: string, error: unknown) => void) | undefined;
  readonly #timeoutMs: number;
  readonly #lockWaitMs: number;
  #bare: Promise<boolean> | undefined;
  #paths: Promise<RepoPaths> | undefined;
  #startup: Promise<void> | undefined;
  readonly #batch: CatFileBatch;
  readonly #author: string;

  constructor(options: LocalGitRepoOptions) {
    this.dir = resolve(options.dir);
    this.description = `local git repository at ${this.dir}`;
    this.#git = new GitRunner({
      dir: this.dir,
      authorName: options.authorName ?? DEFAULT_AUTHOR_NAME,
      authorEmail: options.authorEmail ?? DEFAULT_AUTHOR_EMAIL,
      timeoutMs: options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS,
      ...(options.onGitProcess === undefined ? {} : { onSpawn: options.onGitProcess }),
    });
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
    this.#lockWaitMs = options.lockWaitMs ?? this.#timeoutMs;
    this.#onWarning = options.onWarning;
    this.#batch = new CatFileBatch(() => this.#git.start(["cat-file", "--batch"]), this.#timeoutMs);
    this.#author = identity(
      options.authorName ?? DEFAULT_AUTHOR_NAME,
      options.authorEmail ?? DEFAULT_AUTHOR_EMAIL,
    );
  }

  /** Ends the long-lived git process (it also ends with this process). */
  close(): void {
    this.#batch.close();
  }

  /**
   * Once per process, before the first read or write: recovers what a dead process left (its
   * lock, git lock files, the work tree, temporary directories). Only a success is kept: a
   * request that could not recover fails (the lock file named), and the next one tries again.
   * Going on would answer from a head a dead process moved while the checkout still holds
   * its parent: a `no_op` that leaves the reversed failover staged.
   */
  #recoverOnce(): Promise<void> {
    this.#startup ??= this.#withLock(undefined, async () => undefined).catch(
      async (error: unknown) => {
        this.#startup = undefined;
        this.#onWarning?.(`${this.description}: start-up recovery failed`, error);
        const lock = await this.#lockFile();
        throw error instanceof FailoverError
          ? error
          : new FailoverError(
              "upstream",
              `${this.description}: could not recover what a failover-api process left (${lock}): ${String(error)}`,
              { cause: error, details: { lock } },
            );
      },
    );
    return this.#startup;
  }

  /** Our advisory lock's path, for messages (a guess when git cannot say). */
  #lockFile(): Promise<string> {
    return this.#repoPaths().then(
      (paths) => join(ourDir(paths), "lock"),
      () => join(this.dir, ".git", "failover-api", "lock"),
    );
  }

  /**
   * Where git keeps this repository's files. A `.git` directory in `dir` (a plain checkout,
   * what a user clones) is read as it is, without a process: git itself finds that one first.
   * Anything else (a bare repository, a linked worktree's `.git` file, a folder inside a
   * checkout) is git's to say.
   */
  #repoPaths(): Promise<RepoPaths> {
    this.#paths ??= plainCheckout(this.dir)
      .then(async (paths) => {
        if (paths !== undefined) {
          this.#bare ??= Promise.resolve(false);
          return paths;
        }
        const out = await this.#git.text(["rev-parse", "--git-dir", "--git-common-dir"]);
        const [gitDir = ".git", commonDir = gitDir] = out.split("\n").filter((l) => l !== "");
        const abs = (p: string) => (isAbsolute(p) ? p : resolve(this.dir, p));
        return { gitDir: abs(gitDir), commonDir: abs(commonDir) };
      })
      .catch((error: unknown) => {
        this.#paths = undefined;
        throw error;
      });
    return this.#paths;
  }

  /** Whether the repository has no work tree (a plain checkout, known from #repoPaths, has). */
  async #isBare(): Promise<boolean> {
    await this.#repoPaths().catch(() => undefined);
    this.#bare ??= this.#git
      .text(["rev-parse", "--is-bare-repository"])
      .then((out) => out.trim() === "true");
    return this.#bare;
  }

  async #withLock<T>(journal: Journal | undefined, fn: () => Promise<T>): Promise<T> {
    const paths = await this.#repoPaths();
    const result = await withRepoLock(
      paths,
      journal,
      {
        timeoutMs: this.#lockWaitMs,
        recover: (dead, removed) => this.#recover(dead, removed),
      },
      fn,
    );
    await sweepTempDirs(paths).catch(() => 0);
    await this.#sweepTempRefs(paths).catch(() => 0);
    return result;
  }

  /**
   * Temporary refs (and their git lock files) of dead processes: a commit built but never
   * landed. Read from the directory, so a clean repository costs no git process.
   */
  async #sweepTempRefs(paths: RepoPaths): Promise<number> {
    const root = join(paths.commonDir, TEMP_REF_PREFIX);
    const names = await readdir(root).catch(() => [] as string[]);
    const dead: string[] = [];
    for (const name of names) {
      const match = /^(\d+)-([0-9a-f-]{36})-\d+(\.lock)?$/.exec(name);
      if (match === null) continue;
      const owner = { pid: Number(match[1]), process: match[2] ?? "" };
      if (!isOwnerAlive(owner, await mtimeOf(join(root, name)))) dead.push(name);
    }
    // Lock files first: git cannot delete a ref whose lock file is still there.
    dead.sort((a, b) => Number(b.endsWith(".lock")) - Number(a.endsWith(".lock")));
    let removed = 0;
    for (const name of dead) {
      try {
        if (name.endsWith(".lock")) await unlink(join(root, name));
        else await this.#git.run(["update-ref", "-d", `${TEMP_REF_PREFIX}${name}`]);
        removed++;
      } catch (error) {
        this.#onWarning?.(`${this.description}: could not remove ${TEMP_REF_PREFIX}${name}`, error);
      }
    }
    return removed;
  }

  /**
   * A dead process's step: bring the index and work tree to the head for its paths. A failure
   * is thrown, so the dead owner's lock (its journal) stays for the next attempt and the
   * request fails instead of answering over a checkout still at the failover's parent.
   */
  async #recover(dead: LockRecord | undefined, removedLocks: string[]): Promise<void> {
    const notes: string[] = [];
    if (removedLocks.length > 0) notes.push(`removed ${removedLocks.join(", ")}`);
    if (dead?.branch !== undefined && dead.from !== undefined && dead.to !== undefined) {
      const { branch, paths = [] } = dead;
      const left = await this.#reconcile(branch, [dead.from, dead.to], paths).catch(
        async (error: unknown) => {
          const lock = await this.#lockFile();
          this.#onWarning?.(`${this.description}: could not reconcile the work tree`, error);
          throw new FailoverError(
            "upstream",
            `${this.description}: a failover-api process ${dead.pid} died mid-commit and the ` +
              `checkout's index and work tree could not be brought to ${branch} for ` +
              `${paths.join(", ")} (${lock} kept for the next attempt; if a git lock file such ` +
              `as index.lock is in the way and no git runs, remove it): ${String(error)}`,
            { cause: error, details: { lock, paths } },
          );
        },
      );
      if (left.length > 0) notes.push(`left local edits alone in ${left.join(", ")}`);
    }
    this.#onWarning?.(
      `${this.description}: recovered after a failover-api process ${dead?.pid ?? "?"} died mid-commit` +
        (notes.length > 0 ? `: ${notes.join("; ")}` : ""),
      undefined,
    );
  }

  /**
   * For each path: when the index and work tree hold content Git has (one of `known` commits'
   * or the head's), sets both to the head's (`checkout <head> -- path`). Returns the paths
   * left alone because they hold someone's uncommitted edit.
   */
  async #reconcile(branch: string, known: readonly string[], paths: readonly string[]) {
    if (await this.#isBare()) return [];
    if ((await this.#checkedOut()) !== `refs/heads/${branch}`) return [];
    const head = await resolveBranch(this.#git, branch);
    if (head === undefined) return [];
    const top = (await this.#git.text(["rev-parse", "--show-toplevel"])).trim();
    const left: string[] = [];
    for (const path of paths) {
      const blobs = await Promise.all([head, ...known].map((c) => blobAt(this.#git, c, path)));
      const [headBlob] = blobs;
      const allowed = new Set(blobs);
      const index = await indexBlob(this.#git, top, path);
      const work = await workTreeBlob(this.#git, top, path);
      if (index === headBlob && work === headBlob) continue;
      const workIsOurs = allowed.has(work) || (await this.#caughtMidWrite(top, path, blobs));
      if (index === "conflict" || !allowed.has(index) || !workIsOurs) {
        left.push(path);
        continue;
      }
      if (headBlob === "missing") continue; // our commits only add or change files
      await this.#git.run(["-C", top, "checkout", head, "--", path]);
    }
    return left;
  }

  /**
   * Whether the work-tree file is what a git killed while writing one of `blobs` leaves: git
   * unlinks the file and writes the new one, so a kill in between leaves it missing or a
   * strict prefix of the content being written. Only asked for the journal's paths, during
   * the dead process's own work-tree step, when nobody else was writing them.
   */
  async #caughtMidWrite(top: string, path: string, blobs: readonly string[]): Promise<boolean> {
    const work = await readFile(join(top, path)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return "missing" as const;
      throw error;
    });
    if (work === "missing") return true;
    const oids = [...new Set(blobs)].filter((b) => b !== "missing");
    const objects = await this.#batch.get(oids);
    return objects.some(
      (o) =>
        o?.type === "blob" &&
        o.content.length > work.length &&
        o.content.subarray(0, work.length).equals(work),
    );
  }

  async defaultBranch(): Promise<string> {
    const ref = await this.#checkedOut();
    if (ref === undefined || !ref.startsWith("refs/heads/")) {
      throw new FailoverError("not_found", `${this.description}: HEAD does not point to a branch`);
    }
    return ref.slice("refs/heads/".length);
  }

  /** `git rev-parse`: no cost worth saving, so no validator. */
  async probeHead(branch: string, seen?: SeenHead): Promise<HeadProbe> {
    validateBranch(branch);
    await this.#recoverOnce();
    const head = await this.#requireHead(branch);
    return { head, unchanged: head === seen?.head };
  }

  async read(branch: string, paths: readonly string[]): Promise<Snapshot> {
    validateBranch(branch);
    for (const path of paths) validateRepoPath(path);
    await this.#recoverOnce();
    const head = await this.#requireHead(branch);
    const files = new Map<string, string | null>();
    const unique = [...new Set(paths)];
    if (unique.length === 0) return { head, files };
    // By the head's oid: every file from that one commit, whatever lands meanwhile.
    const objects = await this.#batch.get(unique.map((path) => `${head}:${path}`));
    const blobs = objects.map((o) => (o?.type === "blob" ? o.content.toString("utf8") : null));
    // The same limits as GitHub's GraphQL read, so both backends refuse and skip alike.
    const unreadable = new Map<string, string>();
    unique.forEach((path, i) => {
      const text = blobs[i] ?? null;
      if (text?.includes("\0")) {
        unreadable.set(path, "a binary file, not text");
        files.set(path, null);
      } else if (text !== null && Buffer.byteLength(text, "utf8") > MAX_READ_BYTES) {
        unreadable.set(path, `larger than ${MAX_READ_BYTES} bytes`);
        files.set(path, null);
      } else {
        files.set(path, text);
      }
    });
    return unreadable.size > 0 ? { head, files, unreadable } : { head, files };
  }

  async listFiles(branch: string, prefix: string): Promise<string[]> {
    validateBranch(branch);
    if (typeof prefix !== "string" || /[\0\n\r]/.test(prefix) || prefix.startsWith("/")) {
      throw new FailoverError("invalid_input", `invalid prefix ${JSON.stringify(prefix)}`);
    }
    const head = await this.#requireHead(branch);
    const out = await this.#git.text(["ls-tree", "-r", "-z", "--full-tree", head]);
    return parseLsTree(out)
      .filter((e) => e.type === "blob" && e.path.startsWith(prefix))
      .map((e) => e.path);
  }

  async history(branch: string, options: HistoryRequest): Promise<HistoryEntry[]> {
    const { limit, path, trailer } = validateHistoryRequest(branch, options);
    const head = await this.#requireHead(branch);
    if (limit === 0) return [];
    const args = [
      "log",
      "-z",
      "--no-show-signature",
      "--no-color",
      `--max-count=${limit}`,
      "--format=%H%x1f%cI%x1f%an%x1f%B",
    ];
    // A message search walks 30k commits in well under a second; a path-limited walk diffs
    // every commit's tree. The trailer's characters are validated: no regex specials but '.'.
    if (trailer !== undefined) args.push(`--grep=^${trailer.replace(/\./g, "\\.")}$`);
    args.push(head);
    if (path !== undefined) args.push("--", path);
    const out = await this.#git.text(args);
    const entries: HistoryEntry[] = [];
    for (const record of out.split("\0")) {
      if (record.trim() === "") continue;
      const [sha, date, author, ...rest] = record.split("\x1f");
      if (sha === undefined || date === undefined || author === undefined) continue;
      entries.push({
        sha: sha.trim(),
        date,
        author,
        message: rest.join("\x1f").replace(/\n+$/, ""),
        url: undefined,
      });
    }
    return entries;
  }

  async commit(request: CommitRequest): Promise<CommitResult> {
    const branch = validateBranch(request.branch);
    const expected = validateSha(request.expectedHead);
    const message = validateMessage(request.message);
    const changes = validateChanges(request.changes);

    await this.#recoverOnce();
    const head = await this.#requireHead(branch);
    if (head !== expected) throw new StaleHeadError(branch, expected, head);

    const modes = await existingModes(this.#batch, expected, changes);
    const tempRef = `${TEMP_REF_PREFIX}${process.pid}-${PROCESS_ID}-${++tempRefCount}`;
    const sha = await fastImportCommit(this.#git, {
      ref: tempRef,
      parent: expected,
      changes,
      modes,
      message,
      identity: this.#author,
    });

    const journal: Journal = { branch, from: expected, to: sha, paths: changes.map((c) => c.path) };
    await serialize(this.dir, () =>
      this.#withLock(journal, async () => {
        try {
          // One transaction: the branch moves only from `expected`, and the build ref goes.
          await this.#git.run(
            ["update-ref", "-m", `failover-api: ${firstLine(message)}`, "--stdin"],
            {
              input: [
                "start",
                `update refs/heads/${branch} ${sha} ${expected}`,
                `delete ${tempRef} ${sha}`,
                "prepare",
                "commit",
                "",
              ].join("\n"),
            },
          );
        } catch (error) {
          await this.#git.run(["update-ref", "-d", tempRef, sha]).catch(() => undefined);
          // Git names the head it found when the compare-and-swap lost: that is the answer,
          // even if the branch is back at `expected` by now (another writer reset it), so a
          // lost race is never reported as a failure of git.
          const actual =
            headAtLostSwap(error, branch) ??
            (await this.#resolveHead(branch).catch(() => undefined));
          if (actual !== expected) throw new StaleHeadError(branch, expected, actual);
          throw error;
        }
        await this.#syncWorktree(branch, expected, sha);
      }),
    );
    return { sha, url: undefined };
  }

  /** The branch's commit, through the long-lived reader (no process). */
  async #resolveHead(branch: string): Promise<string | undefined> {
    const [object] = await this.#batch.get([`refs/heads/${branch}^{commit}`]);
    return object?.type === "commit" ? object.oid.toLowerCase() : undefined;
  }

  async #requireHead(branch: string): Promise<string> {
    const head = await this.#resolveHead(branch);
    if (head === undefined) {
      throw new FailoverError("not_found", `branch ${branch} not found in ${this.description}`, {
        details: { branch },
      });
    }
    return head;
  }

  /** What HEAD names, read from its file (`ref: refs/heads/x`); git is asked otherwise. */
  async #checkedOut(): Promise<string | undefined> {
    const { gitDir } = await this.#repoPaths();
    const text = await readFile(join(gitDir, "HEAD"), "utf8").catch(() => undefined);
    const match = text === undefined ? null : /^ref: (refs\/\S+)\n?$/.exec(text);
    if (match?.[1] !== undefined) return match[1];
    return symbolicHead(this.#git);
  }

  /**
   * When `branch` is checked out here, moves the index and work tree from `from` to `to` so
   * `git status` stays clean. Best effort: local modifications in the way leave them alone.
   */
  async #syncWorktree(branch: string, from: string, to: string): Promise<void> {
    try {
      if (await this.#isBare()) return;
      if ((await this.#checkedOut()) !== `refs/heads/${branch}`) return;
      // read-tree refuses, before it writes anything, a file whose cached stat data is stale
      // (a copy, a touch, a `git stash pop`): the index is refreshed then, and only then.
      const move = () => this.#git.run(["read-tree", "-m", "-u", from, to]);
      await move().catch(async () => {
        await this.#git.run(["update-index", "-q", "--refresh"]).catch(() => undefined);
        await move();
      });
    } catch (error) {
      this.#onWarning?.(
        `${this.description}: committed ${to} to ${branch} but left the checked-out work tree ` +
          "as it was (local modifications?)",
        error,
      );
    }
  }
}

/**
 * Creates a non-bare repository in `dir` (created if missing) holding one commit of `files`
 * on `branch` (default "main"), checked out. Returns the commit's sha.
 */
export async function initRepo(
  dir: string,
  files: Record<string, string>,
  options: { branch?: string; message?: string } = {},
): Promise<string> {
  const branch = validateBranch(options.branch ?? "main");
  const message = validateMessage(options.message ?? "Initial commit");
  const changes = validateChanges(
    Object.entries(files).map(([path, text]) => ({ path, text })),
    { allowEmpty: true },
  );
  const absDir = resolve(dir);
  await mkdir(absDir, { recursive: true });
  const git = new GitRunner({
    dir: absDir,
    authorName: DEFAULT_AUTHOR_NAME,
    authorEmail: DEFAULT_AUTHOR_EMAIL,
    timeoutMs: DEFAULT_GIT_TIMEOUT_MS,
  });
  await git.run(["init", "-q", `--initial-branch=${branch}`]);
  const tempRef = `${TEMP_REF_PREFIX}${process.pid}-${PROCESS_ID}-${++tempRefCount}`;
  const sha = await fastImportCommit(git, {
    ref: tempRef,
    parent: undefined,
    changes,
    modes: new Map(),
    message,
    identity: identity(DEFAULT_AUTHOR_NAME, DEFAULT_AUTHOR_EMAIL),
  });
  // Zero old value: the branch must not exist yet.
  await git.run(["update-ref", "-m", `initRepo: ${firstLine(message)}`, "--stdin"], {
    input: `start\ncreate refs/heads/${branch} ${sha}\ndelete ${tempRef} ${sha}\nprepare\ncommit\n`,
  });
  await git.run(["symbolic-ref", "HEAD", `refs/heads/${branch}`]);
  await git.run(["read-tree", "--reset", "-u", sha]);
  return sha;
}

// ---------------------------------------------------------------------------------------------

interface TreeEntry {
  readonly mode: string;
  readonly type: string;
  readonly oid: string;
  readonly path: string;
}

/** Per repository directory: the ref update + work tree step, one at a time in this process. */
const chains = new Map<string, Promise<void>>();

async function serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = chains.get(key) ?? Promise.resolve();
  const result = previous.then(fn);
  const settled = result.then(
    () => undefined,
    () => undefined,
  );
  chains.set(key, settled);
  try {
    return await result;
  } finally {
    if (chains.get(key) === settled) chains.delete(key);
  }
}

async function resolveBranch(git: GitRunner, branch: string): Promise<string | undefined> {
  try {
    const out = await git.text([
      "rev-parse",
      "--verify",
      "--quiet",
      "--end-of-options",
      `refs/heads/${branch}^{commit}`,
    ]);
    return out.trim().toLowerCase();
  } catch (error) {
    if (gitFailure(error)?.exitCode === 1) return undefined;
    throw error;
  }
}

/** A `.git` directory in `dir`: its git dir and common dir; undefined for any other layout. */
async function plainCheckout(dir: string): Promise<RepoPaths | undefined> {
  const gitDir = join(resolve(dir), ".git");
  const info = await stat(gitDir).catch(() => undefined);
  if (info?.isDirectory() !== true) return undefined;
  // A `.git` directory with a `commondir` file is a linked worktree's admin dir seen from
  // inside it (unusual, but git would then put refs elsewhere): git says where.
  if (
    await stat(join(gitDir, "commondir")).then(
      () => true,
      () => false,
    )
  )
    return undefined;
  return { gitDir, commonDir: gitDir };
}

async function symbolicHead(git: GitRunner): Promise<string | undefined> {
  try {
    return (await git.text(["symbolic-ref", "-q", "HEAD"])).trim();
  } catch (error) {
    if (gitFailure(error)?.exitCode === 1) return undefined;
    throw error;
  }
}

/** `Name <email>` for fast-import's author and committer lines (no `<`, `>` or newlines). */
function identity(name: string, email: string): string {
  const clean = (v: string) => v.replace(/[<>\n\r\0]/g, "").trim();
  return `${clean(name)} <${clean(email)}>`;
}

/** A path as fast-import reads it: C-style quoted, so any name is taken literally. */
function quotePath(path: string): string {
  return `"${path.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/**
 * One `git fast-import`: the blobs, the trees (the parent's with `changes` applied; no index)
 * and the commit, on `ref` (a temporary ref of ours, so nothing else moves). Returns the
 * commit's oid. Small imports are written as loose objects (fastimport.unpackLimit).
 */
async function fastImportCommit(
  git: GitRunner,
  commit: {
    readonly ref: string;
    readonly parent: string | undefined;
    readonly changes: readonly FileChange[];
    readonly modes: ReadonlyMap<string, string>;
    readonly message: string;
    readonly identity: string;
  },
): Promise<string> {
  const when = `${Math.floor(Date.now() / 1000)} +0000`;
  const message = Buffer.from(commit.message, "utf8");
  const parts: Buffer[] = [
    Buffer.from(
      `feature done\ncommit ${commit.ref}\nmark :1\n` +
        `author ${commit.identity} ${when}\ncommitter ${commit.identity} ${when}\n` +
        `data ${message.length}\n`,
    ),
    message,
    Buffer.from(`\n${commit.parent === undefined ? "" : `from ${commit.parent}\n`}`),
  ];
  for (const change of commit.changes) {
    const data = Buffer.from(change.text, "utf8");
    const mode = commit.modes.get(change.path) ?? "100644";
    parts.push(
      Buffer.from(`M ${mode} inline ${quotePath(change.path)}\ndata ${data.length}\n`),
      data,
      Buffer.from("\n"),
    );
  }
  parts.push(Buffer.from("\nget-mark :1\ndone\n"));
  const out = await git.text(["fast-import", "--quiet"], { input: Buffer.concat(parts) });
  const sha = out.trim().split("\n").pop() ?? "";
  if (!/^[0-9a-f]{40,64}$/.test(sha)) {
    throw new FailoverError("upstream", `git fast-import gave no commit id (${out.slice(0, 80)})`);
  }
  return sha;
}

/** The entries of a tree object: name -> mode ("100644", "40000", ...). */
function treeEntries(tree: BatchObject): Map<string, string> {
  const oidBytes = tree.oid.length / 2;
  const out = new Map<string, string>();
  const { content } = tree;
  let pos = 0;
  while (pos < content.length) {
    const space = content.indexOf(0x20, pos);
    const nul = content.indexOf(0, space + 1);
    if (space < 0 || nul < 0) throw new FailoverError("upstream", "unreadable tree object");
    out.set(
      content.subarray(space + 1, nul).toString("utf8"),
      content.subarray(pos, space).toString("ascii"),
    );
    pos = nul + 1 + oidBytes;
  }
  return out;
}

/**
 * Modes of files being changed that already exist at `base`, from the trees of their
 * directories (one batch round trip); refuses a directory or a non-regular file in the way.
 */
async function existingModes(
  batch: CatFileBatch,
  base: string,
  changes: readonly FileChange[],
): Promise<Map<string, string>> {
  const dirs = new Set<string>([""]);
  for (const change of changes) for (const parent of ancestors(change.path)) dirs.add(parent);
  const names = [...dirs];
  const objects = await batch.get(names.map((d) => (d === "" ? `${base}^{tree}` : `${base}:${d}`)));
  const trees = new Map<string, Map<string, string>>();
  names.forEach((dir, i) => {
    const object = objects[i];
    if (object?.type === "tree") trees.set(dir, treeEntries(object));
  });
  const modeAt = (path: string): string | undefined => {
    const slash = path.lastIndexOf("/");
    return trees.get(slash < 0 ? "" : path.slice(0, slash))?.get(path.slice(slash + 1));
  };
  const modes = new Map<string, string>();
  for (const change of changes) {
    for (const parent of ancestors(change.path)) {
      const mode = modeAt(parent);
      if (mode !== undefined && mode !== "40000") {
        throw new FailoverError(
          "invalid_input",
          `cannot write below ${parent}: it is a file, not a directory`,
          { details: { path: parent } },
        );
      }
    }
    const mode = modeAt(change.path);
    if (mode === undefined) continue;
    if (mode === "100644" || mode === "100755") {
      modes.set(change.path, mode);
    } else {
      const what = mode === "40000" ? "a directory" : `not a regular file (${mode})`;
      throw new FailoverError("invalid_input", `cannot write ${change.path}: it is ${what}`, {
        details: { path: change.path },
      });
    }
  }
  return modes;
}

/** The blob id of `path` at `commit`, or "missing". */
async function blobAt(git: GitRunner, commit: string, path: string): Promise<string> {
  const out = await git.text(["ls-tree", "-z", "--full-tree", commit, "--", path]);
  const entry = parseLsTree(out).find((e) => e.path === path);
  return entry?.type === "blob" ? entry.oid : "missing";
}

/** The index's blob id for `path` (stage 0), "missing", or "conflict" (unmerged stages). */
async function indexBlob(git: GitRunner, top: string, path: string): Promise<string> {
  const out = await git.text(["-C", top, "ls-files", "-s", "-z", "--", path]);
  const entries = out.split("\0").filter((r) => r !== "");
  if (entries.length === 0) return "missing";
  const [meta = ""] = entries[0]?.split("\t") ?? [];
  const [, oid = "", stage = "0"] = meta.split(" ");
  return entries.length > 1 || stage !== "0" ? "conflict" : oid;
}

/** The blob id the work tree's file would have (no filters), or "missing". */
async function workTreeBlob(git: GitRunner, top: string, path: string): Promise<string> {
  try {
    return (await git.text(["hash-object", "--no-filters", "--", join(top, path)])).trim();
  } catch {
    return "missing";
  }
}

function ancestors(path: string): string[] {
  const parts = path.split("/");
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join("/"));
  return out;
}

function parseLsTree(out: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of out.split("\0")) {
    if (record === "") continue;
    const tab = record.indexOf("\t");
    const [mode, type, oid] = record.slice(0, tab).split(" ");
    if (tab < 0 || mode === undefined || type === undefined || oid === undefined) continue;
    entries.push({ mode, type, oid, path: record.slice(tab + 1) });
  }
  return entries;
}

function validateMessage(message: unknown): string {
  if (typeof message !== "string" || message.trim() === "" || message.includes("\0")) {
    throw new FailoverError("invalid_input", "commit message must be non-empty text without NUL");
  }
  return message.endsWith("\n") ? message : `${message}\n`;
}

function validateChanges(changes: unknown, options: { allowEmpty?: boolean } = {}): FileChange[] {
  if (!Array.isArray(changes) || (changes.length === 0 && options.allowEmpty !== true)) {
    throw new FailoverError("invalid_input", "a commit needs at least one file change");
  }
  const out: FileChange[] = [];
  const seen = new Set<string>();
  for (const change of changes as unknown[]) {
    const { path, text } = (change ?? {}) as { path?: unknown; text?: unknown };
    validateRepoPath(path);
    if (typeof text !== "string") {
      throw new FailoverError("invalid_input", `change to ${String(path)} has no text`);
    }
    const p = path as string;
    if (seen.has(p)) {
      throw new FailoverError("invalid_input", `${p} is changed more than once in one commit`);
    }
    seen.add(p);
    out.push({ path: p, text });
  }
  for (const { path } of out) {
    for (const parent of ancestors(path)) {
      if (seen.has(parent)) {
        throw new FailoverError("invalid_input", `${parent} cannot be both a file and a directory`);
      }
    }
  }
  return out;
}

function firstLine(message: string): string {
  return message.split("\n", 1)[0] ?? "";
}

/**
 * The branch's commit named by git's "cannot lock ref 'refs/heads/<branch>': is at <sha> but
 * expected <sha>" (update-ref's old-value check; LC_ALL=C keeps the words), else undefined.
 */
function headAtLostSwap(error: unknown, branch: string): string | undefined {
  const stderr = gitFailure(error)?.stderr ?? "";
  const prefix = `cannot lock ref 'refs/heads/${branch}': is at `;
  const at = stderr.indexOf(prefix);
  if (at < 0) return undefined;
  return /^([0-9a-f]{40,64}) but expected /.exec(stderr.slice(at + prefix.length))?.[1];
}
