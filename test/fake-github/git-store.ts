import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GitRunner, gitFailure } from "../../src/repo/local/git-cli.js";
import { LocalGitRepo } from "../../src/repo/local/local-git-repo.js";

/** Commits made through the fake (createCommitOnBranch) are authored like an App's. */
export const FAKE_BOT_NAME = "failover-api[bot]";
export const FAKE_BOT_EMAIL = "failover-api[bot]@users.noreply.github.com";

export interface GitActor {
  readonly name: string;
  readonly email: string;
  /** ISO 8601 in UTC with a Z, as GitHub writes dates. */
  readonly date: string;
}

export interface CommitInfo {
  readonly oid: string;
  readonly tree: string;
  readonly parents: readonly string[];
  readonly author: GitActor;
  readonly committer: GitActor;
  /** The full message as git stores it (git adds the final newline). */
  readonly message: string;
}

export interface TreeEntryInfo {
  /** Octal mode as git prints it, e.g. "100644". */
  readonly mode: string;
  readonly type: "blob" | "tree" | "commit";
  readonly oid: string;
  /** Bytes for blobs; undefined for trees and submodules. */
  readonly size: number | undefined;
  readonly path: string;
}

/**
 * The fake's view of its real git repository: LocalGitRepo for the writes (compare-and-swap
 * with update-ref, exactly like the local adapter) and the git CLI for what GitHub's API
 * exposes beyond the port (commit objects, trees, blobs by oid, logs).
 */
export class FakeGitStore {
  readonly dir: string;
  readonly repo: LocalGitRepo;
  readonly #git: GitRunner;
  // Objects never change once written (git names them by content): each is read once. This
  // saves most of the git processes a request costs, and CPU is what the suite is short of.
  // Once per process, not per fake: every fake starts from a copy of one template repository
  // (the same commits, trees and blobs), so a test's first requests read what the tests before
  // it already read. Only object names are keys; a branch or tag name is read every time.
  readonly #objects = sharedObjects();

  constructor(dir: string) {
    this.dir = dir;
    this.repo = new LocalGitRepo({ dir, authorName: FAKE_BOT_NAME, authorEmail: FAKE_BOT_EMAIL });
    this.#git = new GitRunner({
      dir,
      authorName: FAKE_BOT_NAME,
      authorEmail: FAKE_BOT_EMAIL,
      timeoutMs: 30_000,
    });
  }

  /** A full ref name for `name` ("refs/heads/x", or a short branch or tag name), if it exists. */
  async resolveRef(name: string): Promise<{ qualifiedName: string; oid: string } | undefined> {
    const candidates = name.startsWith("refs/")
      ? [name]
      : [`refs/heads/${name}`, `refs/tags/${name}`];
    for (const qualifiedName of candidates) {
      if (!isSafeRevision(qualifiedName)) continue;
      const oid = await this.#revParse(`${qualifiedName}^{commit}`);
      if (oid !== undefined) return { qualifiedName, oid };
    }
    return undefined;
  }

  /** The commit a sha, branch or tag name points to (REST `sha` / `tree_sha` parameters). */
  async resolveCommitish(revision: string): Promise<string | undefined> {
    if (/^[0-9a-f]{40}$/i.test(revision)) return this.#revParse(`${revision}^{commit}`);
    return (await this.resolveRef(revision))?.oid;
  }

  /** The tree a commit-ish or tree sha names. */
  async resolveTree(revision: string): Promise<string | undefined> {
    if (/^[0-9a-f]{40}$/i.test(revision)) return this.#revParse(`${revision}^{tree}`);
    const commit = await this.resolveCommitish(revision);
    return commit === undefined ? undefined : (await this.commit(commit)).tree;
  }

  commit(oid: string): Promise<CommitInfo> {
    if (!OID.test(oid)) return this.#readCommit(oid);
    return once(this.#objects.commits, oid, () => this.#readCommit(oid));
  }

  /** The entry at `path` in a commit's tree, or undefined when there is none. */
  entry(commitOid: string, path: string): Promise<TreeEntryInfo | undefined> {
    if (path === "" || path.startsWith("/") || path.includes("\0")) {
      return Promise.resolve(undefined);
    }
    if (!OID.test(commitOid)) {
      return this.#git
        .text(["ls-tree", "-l", "-z", "--full-tree", commitOid, "--", path])
        .then((out) => parseLsTree(out).find((e) => e.path === path));
    }
    return this.#allEntries(commitOid).then((entries) => entries.get(path));
  }

  /**
   * Every entry of a commit's tree by path, from one `ls-tree -r -t`: a failover reads a
   * handful of paths at each new head, and a git process per path was most of the processes
   * a request cost (the test repositories are small, so listing them whole is cheap).
   */
  #allEntries(commitOid: string): Promise<ReadonlyMap<string, TreeEntryInfo>> {
    return once(this.#objects.entries, commitOid, async () => {
      const out = await this.#git.text([
        "ls-tree",
        "-r",
        "-t",
        "-l",
        "-z",
        "--full-tree",
        commitOid,
      ]);
      return new Map(parseLsTree(out).map((e) => [e.path, e]));
    });
  }

  /** Every entry below a tree (trees included, like GitHub's recursive tree listing). */
  async tree(treeOid: string, recursive: boolean): Promise<TreeEntryInfo[]> {
    const args = ["ls-tree", "-l", "-z", "--full-tree"];
    if (recursive) args.push("-r", "-t");
    const read = async () => parseLsTree(await this.#git.text([...args, treeOid]));
    if (!OID.test(treeOid)) return read();
    // A copy: a caller may not change what the next one reads.
    return [...(await once(this.#objects.trees, `${treeOid} ${recursive}`, read))];
  }

  async blob(oid: string): Promise<Buffer> {
    const read = () => this.#git.run(["cat-file", "blob", oid]);
    if (!OID.test(oid)) return read();
    // A copy: a caller may not change what the next one reads.
    return Buffer.from(await once(this.#objects.blobs, oid, read));
  }

  /** Commit oids reachable from `start`, newest first, optionally only those touching `path`. */
  async log(
    start: string,
    options: { path?: string; skip?: number; max?: number } = {},
  ): Promise<string[]> {
    const args: string[] = [];
    if (options.skip !== undefined) args.push(`--skip=${options.skip}`);
    if (options.max !== undefined) args.push(`--max-count=${options.max}`);
    args.push(start);
    if (options.path !== undefined && options.path !== "") args.push("--", options.path);
    const out = await this.revList(args);
    return out.split("\n").filter((line) => line !== "");
  }

  /**
   * `git rev-list <args>`'s output. What it lists from commit names alone (`<oid>`,
   * `<oid>..<oid>`, `<oid>...<oid>`) never changes: a commit names its parents, so its
   * history is part of its name. Those answers are read once per process, like the objects.
   */
  revList(args: readonly string[]): Promise<string> {
    const read = () => this.#git.text(["rev-list", ...args]);
    const dash = args.indexOf("--");
    const revisions = (dash < 0 ? args : args.slice(0, dash)).filter((a) => !a.startsWith("--"));
    const fixed = revisions.length > 0 && revisions.every((r) => RANGE_OF_OIDS.test(r));
    return fixed ? once(this.#objects.revLists, args.join("\0"), read) : read();
  }

  /** Every ref under `prefix` ("refs/heads/", "refs/heads/failover/") with its object, by name. */
  async refs(prefix: string): Promise<{ name: string; oid: string }[]> {
    const out = await this.#git.text(["for-each-ref", "--format=%(refname) %(objectname)", prefix]);
    return out
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => {
        const at = line.lastIndexOf(" ");
        return { name: line.slice(0, at), oid: line.slice(at + 1) };
      });
  }

  async #revParse(revision: string): Promise<string | undefined> {
    const branch = /^(refs\/heads\/.+)\^\{commit\}$/.exec(revision)?.[1];
    if (branch !== undefined) {
      const head = this.#branchHead(branch);
      if (head !== "ask git") return head;
    }
    const immutable = /^[0-9a-f]{40}\^\{(commit|tree)\}$/i.test(revision);
    const known = immutable ? this.#objects.peeled.get(revision.toLowerCase()) : undefined;
    if (known !== undefined) return known;
    const oid = await this.#revParseWithGit(revision);
    if (immutable && oid !== undefined) this.#objects.peeled.set(revision.toLowerCase(), oid);
    return oid;
  }

  /**
   * A branch's commit, read from the files git keeps it in (the loose ref, else packed-refs)
   * instead of a `git rev-parse` process: the fake resolves `main` on nearly every request.
   * Anything unexpected is left to git. Read synchronously: for a file of one line,
   * fs.promises' open, stat, read and close cost more than the read.
   */
  #branchHead(ref: string): string | undefined | "ask git" {
    const gitDir = join(this.dir, ".git");
    try {
      const text = readFileSync(join(gitDir, ref), "utf8").trim();
      return /^[0-9a-f]{40}$/.test(text) ? text : "ask git";
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR" && code !== "EISDIR") return "ask git";
    }
    try {
      const packed = readFileSync(join(gitDir, "packed-refs"), "utf8");
      for (const line of packed.split("\n")) {
        const match = /^([0-9a-f]{40}) (.+)$/.exec(line);
        if (match?.[2] === ref) return match[1];
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") return "ask git";
    }
    return undefined;
  }

  async #revParseWithGit(revision: string): Promise<string | undefined> {
    try {
      const out = await this.#git.text([
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        revision,
      ]);
      return out.trim().toLowerCase();
    } catch (error) {
      if (gitFailure(error)?.exitCode !== undefined) return undefined;
      throw error;
    }
  }

  async #readCommit(oid: string): Promise<CommitInfo> {
    const format = ["%H", "%T", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B"].join("%x1f");
    const out = await this.#git.text([
      "show",
      "-s",
      "--no-show-signature",
      `--format=${format}`,
      oid,
    ]);
    const [sha, tree, parents, an, ae, ad, cn, ce, cd, ...message] = out.split("\x1f");
    return {
      oid: sha ?? oid,
      tree: tree ?? "",
      parents: (parents ?? "").split(" ").filter((p) => p !== ""),
      author: { name: an ?? "", email: ae ?? "", date: isoUtc(ad ?? "") },
      committer: { name: cn ?? "", email: ce ?? "", date: isoUtc(cd ?? "") },
      // GitHub's API shows messages without git's trailing newline(s).
      message: message.join("\x1f").replace(/\n+$/, ""),
    };
  }
}

const OID = /^[0-9a-f]{40}$/;
const RANGE_OF_OIDS = /^[0-9a-f]{40}(\.\.\.?[0-9a-f]{40})?$/;

interface SharedObjects {
  readonly commits: Map<string, Promise<CommitInfo>>;
  /** By commit oid: every path of its tree. */
  readonly entries: Map<string, Promise<ReadonlyMap<string, TreeEntryInfo>>>;
  /** By "<tree oid> <recursive>". */
  readonly trees: Map<string, Promise<readonly TreeEntryInfo[]>>;
  readonly blobs: Map<string, Promise<Buffer>>;
  /** `<sha>^{commit}` and `<sha>^{tree}` once found (an object, once there, stays). */
  readonly peeled: Map<string, string>;
  /** rev-list outputs by their arguments, for revisions that are commit names only. */
  readonly revLists: Map<string, Promise<string>>;
}

/** On globalThis: vitest evaluates this module again for each test file a worker runs. */
const SHARED_OBJECTS = Symbol.for("failover-api.fake-github.objects");

function sharedObjects(): SharedObjects {
  const store = globalThis as { [SHARED_OBJECTS]?: SharedObjects };
  store[SHARED_OBJECTS] ??= {
    commits: new Map(),
    entries: new Map(),
    trees: new Map(),
    blobs: new Map(),
    peeled: new Map(),
    revLists: new Map(),
  };
  return store[SHARED_OBJECTS];
}

/** The cached promise for `key`, made by `make` on first use; a failure is not kept. */
function once<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (value === undefined) {
    value = make();
    value.catch(() => cache.delete(key));
    cache.set(key, value);
  }
  return value;
}

/** Refuses anything git could read as an option or a revision expression. */
export function isSafeRevision(name: string): boolean {
  return (
    name !== "" &&
    !name.startsWith("-") &&
    !name.includes("..") &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters
    !/[\x00-\x20\x7f~^:?*[\\@{}]/.test(name)
  );
}

function isoUtc(date: string): string {
  const parsed = new Date(date);
  return Number.isNaN(parsed.getTime()) ? date : parsed.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function parseLsTree(out: string): TreeEntryInfo[] {
  const entries: TreeEntryInfo[] = [];
  for (const record of out.split("\0")) {
    if (record === "") continue;
    const tab = record.indexOf("\t");
    if (tab < 0) continue;
    const [mode, type, oid, size] = record.slice(0, tab).trim().split(/\s+/);
    if (mode === undefined || oid === undefined) continue;
    if (type !== "blob" && type !== "tree" && type !== "commit") continue;
    entries.push({
      mode,
      type,
      oid,
      size: size === undefined || size === "-" ? undefined : Number(size),
      path: record.slice(tab + 1),
    });
  }
  return entries;
}
