import type { PullRequestInfo } from "./change-requests.js";

/**
 * The one GitOps repository port. Adapters: local Git (git CLI) and GitHub (API, no clone).
 * Every write is a compare-and-swap on the branch head; nothing is ever forced.
 */
export interface Snapshot {
  /** Commit the files were read from. */
  readonly head: string;
  /** Requested path -> text, or null when the path does not exist at head (or is unreadable). */
  readonly files: ReadonlyMap<string, string | null>;
  /**
   * Paths that exist but whose text cannot be had (binary, or larger than
   * MAX_READ_BYTES, GitHub's GraphQL limit), with why. They are null in `files`: only a
   * failover that must edit one of them refuses; others are skipped.
   */
  readonly unreadable?: ReadonlyMap<string, string>;
  /**
   * With `ReadOptions.failover` on a backend with pull requests (GitHub): the open pull
   * requests into the branch read whose head is a `failover/*` branch of this repository,
   * seen by the same request as the files. Absent when not asked, not supported, or when
   * GitHub had more than one page of them: then callers ask the change-requests port.
   */
  readonly openFailoverPullRequests?: readonly PullRequestInfo[];
  /** The same for the `failover/*` branches: branch name -> where it stands. */
  readonly failoverBranches?: ReadonlyMap<string, FailoverBranchState>;
  /**
   * Path -> git blob id of the files read, where the backend gives it (GitHub). A path of
   * `ReadOptions.textless` may be here and not in `files`: read by its id only.
   */
  readonly blobIds?: ReadonlyMap<string, string>;
}

/** A `failover/*` branch as the read saw it. */
export interface FailoverBranchState {
  readonly head: string;
  /**
   * How many commits the branch has that the branch read lacks; 0 also when a pull request
   * merged it at this very head (a squash or rebase merge). 0: everything on it reached the
   * base already, so moving it loses nothing. Undefined when GitHub could not compare.
   */
  readonly unmerged: number | undefined;
}

/** What a read fetches besides the files. */
export interface ReadOptions {
  /** Also the open failover PRs and `failover/*` branches (Snapshot fields above). */
  readonly failover?: boolean;
  /**
   * Paths (among those read) whose text the caller can do without when their blob id comes
   * instead (a cache keyed by it may know them). Backends that cannot tell ids cheaply
   * ignore it and read them as usual (local Git, where reads cost nothing).
   */
  readonly textless?: readonly string[];
}

/** The most text one file may have for failover to read it (GitHub's GraphQL Blob.text cut). */
export const MAX_READ_BYTES = 512_000;

export interface FileChange {
  readonly path: string;
  readonly text: string;
}

export interface CommitRequest {
  readonly branch: string;
  /** The head the change was computed from; the write fails with StaleHeadError otherwise. */
  readonly expectedHead: string;
  readonly message: string;
  readonly changes: readonly FileChange[];
}

export interface CommitResult {
  readonly sha: string;
  /** Browsable link where the backend has one. */
  readonly url: string | undefined;
}

export interface HistoryEntry {
  readonly sha: string;
  readonly message: string;
  /** ISO 8601 commit date. */
  readonly date: string;
  readonly author: string;
  readonly url: string | undefined;
}

/** Which commits `history` returns, newest first, at most `limit`. */
export interface HistoryRequest {
  /** Commits touching this file only. */
  readonly path?: string;
  /**
   * Failover commits only: those whose message has this exact trailer line (e.g.
   * "Failover-Service: sonarr"). Backends search by it where they can (git log --grep) and
   * else walk `paths` (one request), so history stays bounded on long repositories.
   */
  readonly trailer?: string;
  /** With `trailer`: the files whose history a backend that cannot search messages walks. */
  readonly paths?: readonly string[];
  readonly limit: number;
}

/** A branch head as last seen, with what the backend needs to ask cheaply whether it moved. */
export interface SeenHead {
  readonly head: string;
  /**
   * Opaque to callers: GitHub's ETag of the ref, sent back as `If-None-Match`. Absent where
   * asking costs nothing anyway (local Git) or the backend gave none.
   */
  readonly validator?: string;
}

export interface HeadProbe extends SeenHead {
  /** The head is still the one `seen` named (on GitHub: a 304 to the conditional request). */
  readonly unchanged: boolean;
}

export interface GitOpsRepo {
  /** Human-readable location, for logs and responses (never contains credentials). */
  readonly description: string;
  defaultBranch(): Promise<string>;
  /**
   * The head of `branch`, asked as cheaply as the backend can: with `seen` (the previous
   * answer) GitHub sends a conditional request, whose 304 costs no rate limit. Reads no file.
   */
  probeHead(branch: string, seen?: SeenHead): Promise<HeadProbe>;
  /** Head of `branch` and the given files, all from that same commit. */
  read(branch: string, paths: readonly string[], options?: ReadOptions): Promise<Snapshot>;
  /** All file paths at the head of `branch` that start with `prefix` ("" for all). */
  listFiles(branch: string, prefix: string): Promise<string[]>;
  /** One commit on `branch` holding every change, only if the head is still `expectedHead`. */
  commit(request: CommitRequest): Promise<CommitResult>;
  /** Newest first; only commits touching `path` when given. */
  history(branch: string, options: HistoryRequest): Promise<HistoryEntry[]>;
}
