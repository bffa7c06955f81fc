import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
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
import { DEFAULT_GIT_TIMEOUT_MS, GitRunner, gitFailure } from "./git-cli.js";
import {
  type Journal,
  type LockRecord,
  makeTempDir,
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
  /**
   * Called when the checked-out work tree could not be brought along after a commit, and
   * when a dead process's leftovers were recovered.
   */
  readonly onWarning?: (message: string, error: unknown) => void;
}

/**
 * The GitOpsRepo port over a repository on disk, through the git CLI. Commits are built with
 * plumbing in a temporary index (the repository's own index and work tree are never used to
 * build them) and land with a compare-and-swap `git update-ref`. The ref update and the
 * work-tree step run under an advisory lock that journals them, so what a killed process
 * leaves behind is recovered by the next one (rules in recovery.ts).
 */
export class LocalGitRepo implements GitOpsRepo {
  readonly description: string;
  readonly dir: string;
  readonly #git: GitRunner;
  readonly #onWarning: ((message: string, error: unknown) => void) | undefined;
  readonly #timeoutMs: number;
  #bare: Promise<boolean> | undefined;
  #paths: Promise<RepoPaths> | undefined;
  #startup: Promise<void> | undefined;

  constructor(options: LocalGitRepoOptions) {
    this.dir = resolve(options.dir);
    this.description = `local git repository at ${this.dir}`;
    this.#git = new GitRunner({
      dir: this.dir,
      authorName: options.authorName ?? DEFAULT_AUTHOR_NAME,
      authorEmail: options.authorEmail ?? DEFAULT_AUTHOR_EMAIL,
      timeoutMs: options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS,
    });
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
    this.#onWarning = options.onWarning;
  }

  /**
   * Once per process, before the first read or write: recovers what a dead process left (its
   * lock, git lock files, the work tree, temporary directories). Never fails a request.
   */
  #recoverOnce(): Promise<void> {
    this.#startup ??= this.#withLock(undefined, async () => undefined).catch((error: unknown) => {
      this.#onWarning?.(`${this.description}: start-up recovery failed`, error);
    });
    return this.#startup;
  }

  #repoPaths(): Promise<RepoPaths> {
    this.#paths ??= this.#git
      .text(["rev-parse", "--git-dir", "--git-common-dir"])
      .then((out) => {
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

  async #withLock<T>(journal: Journal | undefined, fn: () => Promise<T>): Promise<T> {
    const paths = await this.#repoPaths();
    const result = await withRepoLock(
      paths,
      journal,
      {
        timeoutMs: this.#timeoutMs,
        recover: (dead, removed) => this.#recover(dead, removed),
      },
      fn,
    );
    await sweepTempDirs(paths).catch(() => 0);
    return result;
  }

  /** A dead process's step: bring the index and work tree to the head for its paths. */
  async #recover(dead: LockRecord | undefined, removedLocks: string[]): Promise<void> {
    const notes: string[] = [];
    if (removedLocks.length > 0) notes.push(`removed ${removedLocks.join(", ")}`);
    try {
      if (dead?.branch !== undefined && dead.from !== undefined && dead.to !== undefined) {
        const left = await this.#reconcile(dead.branch, [dead.from, dead.to], dead.paths ?? []);
        if (left.length > 0) notes.push(`left local edits alone in ${left.join(", ")}`);
      }
    } catch (error) {
      this.#onWarning?.(`${this.description}: could not reconcile the work tree`, error);
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
    this.#bare ??= this.#git
      .text(["rev-parse", "--is-bare-repository"])
      .then((out) => out.trim() === "true");
    if (await this.#bare) return [];
    if ((await symbolicHead(this.#git)) !== `refs/heads/${branch}`) return [];
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
      if (index === "conflict" || !allowed.has(index) || !allowed.has(work)) {
        left.push(path);
        continue;
      }
      if (headBlob === "missing") continue; // our commits only add or change files
      await this.#git.run(["-C", top, "checkout", head, "--", path]);
    }
    return left;
  }

  async defaultBranch(): Promise<string> {
    const ref = await symbolicHead(this.#git);
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
    const input = unique.map((path) => `${head}:${path}\n`).join("");
    const out = await this.#git.run(["cat-file", "--batch"], { input });
    const blobs = parseCatFileBatch(out, unique.length);
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

    const paths = await this.#repoPaths();
    const tree = await buildTree(this.#git, expected, changes, () => makeTempDir(paths));
    const sha = (
      await this.#git.text(["commit-tree", "--no-gpg-sign", tree, "-p", expected], {
        input: message,
      })
    ).trim();

    const journal: Journal = { branch, from: expected, to: sha, paths: changes.map((c) => c.path) };
    await serialize(this.dir, () =>
      this.#withLock(journal, async () => {
        try {
          await this.#git.run([
            "update-ref",
            "-m",
            `failover-api: ${firstLine(message)}`,
            `refs/heads/${branch}`,
            sha,
            expected,
          ]);
        } catch (error) {
          const actual = await resolveBranch(this.#git, branch).catch(() => undefined);
          if (actual !== expected) throw new StaleHeadError(branch, expected, actual);
          throw error;
        }
        await this.#syncWorktree(branch, expected, sha);
      }),
    );
    return { sha, url: undefined };
  }

  async #requireHead(branch: string): Promise<string> {
    const head = await resolveBranch(this.#git, branch);
    if (head === undefined) {
      throw new FailoverError("not_found", `branch ${branch} not found in ${this.description}`, {
        details: { branch },
      });
    }
    return head;
  }

  /**
   * When `branch` is checked out here, moves the index and work tree from `from` to `to` so
   * `git status` stays clean. Best effort: local modifications in the way leave them alone.
   */
  async #syncWorktree(branch: string, from: string, to: string): Promise<void> {
    try {
      this.#bare ??= this.#git
        .text(["rev-parse", "--is-bare-repository"])
        .then((out) => out.trim() === "true");
      if (await this.#bare) return;
      if ((await symbolicHead(this.#git)) !== `refs/heads/${branch}`) return;
      await this.#git.run(["update-index", "-q", "--refresh"]).catch(() => undefined);
      await this.#git.run(["read-tree", "-m", "-u", from, to]);
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
  const tree = await buildTree(git, undefined, changes, () =>
    mkdtemp(join(tmpdir(), "failover-api-index-")),
  );
  const sha = (await git.text(["commit-tree", "--no-gpg-sign", tree], { input: message })).trim();
  // Empty old value: the branch must not exist yet.
  await git.run([
    "update-ref",
    "-m",
    `initRepo: ${firstLine(message)}`,
    `refs/heads/${branch}`,
    sha,
    "",
  ]);
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

async function symbolicHead(git: GitRunner): Promise<string | undefined> {
  try {
    return (await git.text(["symbolic-ref", "-q", "HEAD"])).trim();
  } catch (error) {
    if (gitFailure(error)?.exitCode === 1) return undefined;
    throw error;
  }
}

/**
 * Writes the blobs and a tree equal to `base` (or empty) with `changes` applied, using a
 * throw-away index file so the repository's own index is never touched.
 */
async function buildTree(
  git: GitRunner,
  base: string | undefined,
  changes: readonly FileChange[],
  makeTemp: () => Promise<string>,
): Promise<string> {
  const modes =
    base === undefined ? new Map<string, string>() : await existingModes(git, base, changes);
  const blobs = await Promise.all(
    changes.map(async (change) =>
      (
        await git.text(["hash-object", "-w", "--no-filters", "--stdin"], {
          input: Buffer.from(change.text, "utf8"),
        })
      ).trim(),
    ),
  );
  const tmp = await makeTemp();
  try {
    const env = { GIT_INDEX_FILE: join(tmp, "index") };
    if (base !== undefined) await git.run(["read-tree", base], { env });
    if (changes.length > 0) {
      const info = changes
        .map((change, i) => `${modes.get(change.path) ?? "100644"} ${blobs[i]}\t${change.path}\0`)
        .join("");
      await git.run(["update-index", "--add", "-z", "--index-info"], { env, input: info });
    }
    return (await git.text(["write-tree"], { env })).trim();
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
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

/** Modes of files being changed that already exist at `base`; refuses trees in the way. */
async function existingModes(
  git: GitRunner,
  base: string,
  changes: readonly FileChange[],
): Promise<Map<string, string>> {
  const targets = new Set(changes.map((c) => c.path));
  const lookups = new Set<string>(targets);
  for (const path of targets) for (const parent of ancestors(path)) lookups.add(parent);
  const out = await git.text(["ls-tree", "-z", "--full-tree", base, "--", ...lookups]);
  const modes = new Map<string, string>();
  for (const entry of parseLsTree(out)) {
    if (!lookups.has(entry.path)) continue;
    if (targets.has(entry.path)) {
      if (entry.mode === "100644" || entry.mode === "100755") {
        modes.set(entry.path, entry.mode);
      } else {
        const what = entry.type === "tree" ? "a directory" : `not a regular file (${entry.mode})`;
        throw new FailoverError("invalid_input", `cannot write ${entry.path}: it is ${what}`, {
          details: { path: entry.path },
        });
      }
    } else if (entry.type !== "tree") {
      throw new FailoverError(
        "invalid_input",
        `cannot write below ${entry.path}: it is a file, not a directory`,
        { details: { path: entry.path } },
      );
    }
  }
  return modes;
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

/** `git cat-file --batch` output for `count` requests: blob text, or null (missing, not a blob). */
function parseCatFileBatch(out: Buffer, count: number): (string | null)[] {
  const results: (string | null)[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const eol = out.indexOf(0x0a, pos);
    if (eol < 0) throw new FailoverError("upstream", "git cat-file --batch: truncated output");
    const header = out.subarray(pos, eol).toString("utf8");
    pos = eol + 1;
    const match = /^[0-9a-f]{40,64} (\S+) (\d+)$/.exec(header);
    if (match === null) {
      results.push(null); // "<name> missing" / "ambiguous"
      continue;
    }
    const size = Number(match[2]);
    const content = out.subarray(pos, pos + size);
    pos += size + 1; // content is followed by a newline
    results.push(match[1] === "blob" ? content.toString("utf8") : null);
  }
  return results;
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
