import { z } from "zod";
import { FailoverError, StaleHeadError } from "../../domain/errors.js";
import type { PullRequestInfo } from "../change-requests.js";
import {
  validateBranch,
  validateHistoryRequest,
  validateRepoPath,
  validateSha,
} from "../local/validate.js";
import type {
  CommitRequest,
  CommitResult,
  FailoverBranchState,
  FileChange,
  GitOpsRepo,
  HeadProbe,
  HistoryEntry,
  HistoryRequest,
  ReadOptions,
  SeenHead,
  Snapshot,
} from "../port.js";
import { MAX_READ_BYTES } from "../port.js";
import type { GitHubClient } from "./client.js";
import { answerMayBeLost, httpStatus, isStaleData, toFailoverError } from "./errors.js";
import { CREATE_COMMIT_MUTATION, historyQuery, readFilesQuery } from "./queries.js";
import { RepositoryFacts } from "./repository-facts.js";

export interface GitHubRepoOptions {
  readonly octokit: GitHubClient;
  readonly owner: string;
  readonly repo: string;
  /** Web base for commit links and the description; default https://github.com. */
  readonly serverUrl?: string;
  /** Where failover reads leave the repository's node id and settings (a new one if absent). */
  readonly facts?: RepositoryFacts;
}

/** GitHub's GraphQL `Blob.text` stops at this many bytes (`isTruncated` is then true). */
/** GitHub cuts Blob.text here; the port's read limit is the same number for both backends. */
export const GRAPHQL_TEXT_LIMIT_BYTES = MAX_READ_BYTES;

/** GitHub's largest `per_page` for the commits list. */
const MAX_PER_PAGE = 100;

// Only the fields the adapter reads; anything else in GitHub's answers is ignored.
const blobObject = z.object({
  __typename: z.string(),
  oid: z.string().optional(),
  text: z.string().nullable().optional(),
  isTruncated: z.boolean().optional(),
  isBinary: z.boolean().nullable().optional(),
});
const fileEntry = z.object({ object: blobObject.nullable() }).nullable();
type FileEntry = z.infer<typeof fileEntry>;

const parentsField = z.object({ nodes: z.array(z.object({ oid: z.string() }).nullable()) });
const commitTarget = z.object({
  __typename: z.string(),
  oid: z.string().optional(),
  url: z.string().optional(),
  message: z.string().optional(),
  parents: parentsField.optional(),
  history: z
    .object({
      nodes: z.array(
        z
          .object({
            oid: z.string(),
            url: z.string().optional(),
            message: z.string(),
            parents: parentsField,
          })
          .nullable(),
      ),
    })
    .optional(),
});

const pageInfo = z.object({ hasNextPage: z.boolean() });
const failoverPulls = z
  .object({
    nodes: z.array(
      z
        .object({
          id: z.string(),
          number: z.number(),
          url: z.string(),
          headRefName: z.string(),
          headRefOid: z.string(),
          baseRefName: z.string(),
          isCrossRepository: z.boolean(),
        })
        .nullable(),
    ),
    pageInfo,
  })
  .nullish();
const failoverRefs = z
  .object({
    nodes: z.array(
      z
        .object({
          name: z.string(),
          target: z.object({ oid: z.string() }).nullable(),
          compare: z.object({ behindBy: z.number() }).nullish(),
          associatedPullRequests: z
            .object({ nodes: z.array(z.object({ headRefOid: z.string() }).nullable()) })
            .nullish(),
        })
        .nullable(),
    ),
    pageInfo,
  })
  .nullish();

/**
 * The read answer, built once: every other key of the commit (`f0`..`fN`, read through a
 * cast) is checked as a file entry.
 */
const readFilesResponse = z.object({
  repository: z
    .object({
      id: z.string().optional(),
      deleteBranchOnMerge: z.boolean().nullish(),
      failoverPulls,
      failoverRefs,
      ref: z.object({ target: commitTarget.catchall(fileEntry.optional()).nullable() }).nullable(),
    })
    .nullable(),
});

/** Files whose history one failover-history query walks at most. */
const MAX_HISTORY_PATHS = 12;

const historyWalk = z.object({
  nodes: z.array(
    z
      .object({
        oid: z.string(),
        message: z.string(),
        committedDate: z.string(),
        url: z.string().nullish(),
        author: z
          .object({
            name: z.string().nullish(),
            user: z.object({ login: z.string() }).nullish(),
          })
          .nullish(),
      })
      .nullable(),
  ),
});

/** Built once: every key besides `__typename` and `oid` (`h0`..`hN`) is a history walk. */
const historyResponse = z.object({
  repository: z
    .object({
      ref: z
        .object({
          target: z
            .object({ __typename: z.string(), oid: z.string().optional() })
            .catchall(historyWalk.optional())
            .nullable(),
        })
        .nullable(),
    })
    .nullable(),
});

const createCommitResponse = z.object({
  createCommitOnBranch: z
    .object({ commit: z.object({ oid: z.string(), url: z.string().optional() }).nullable() })
    .nullable(),
});

const defaultBranchResponse = z.object({ default_branch: z.string() });

/** `GET /repos/{owner}/{repo}/git/ref/heads/{branch}`: only the commit it points to. */
const refResponse = z.object({
  object: z.object({ type: z.literal("commit"), sha: z.string().regex(/^[0-9a-fA-F]{40}$/) }),
});
/** An answer's (or a 304's) headers: only the validator. */
const etagHeaders = z.object({ etag: z.string().min(1).optional() });

const treeResponse = z.object({
  truncated: z.boolean().optional(),
  tree: z.array(z.object({ path: z.string(), type: z.string(), sha: z.string().optional() })),
});

/**
 * Tree requests one listing may take when GitHub truncates the recursive tree (over about
 * 100,000 entries or 7 MB) and it is listed directory by directory instead.
 */
const MAX_TREE_REQUESTS = 200;

const gitActor = z.object({ name: z.string().nullish(), date: z.string().nullish() }).nullish();
const commitsResponse = z.array(
  z.object({
    sha: z.string(),
    html_url: z.string().nullish(),
    author: z.object({ login: z.string() }).nullish(),
    commit: z.object({ message: z.string(), author: gitActor, committer: gitActor }),
  }),
);

/** A file as one GraphQL read saw it. */
type FileState = (
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "missing" }
  | { readonly kind: "truncated" }
  | { readonly kind: "binary" }
  /** Asked for its blob id only (ReadOptions.textless). */
  | { readonly kind: "id" }
) & { readonly oid?: string };

interface CommitRead {
  readonly oid: string;
  readonly url: string | undefined;
  readonly message: string | undefined;
  readonly parents: readonly string[];
  readonly files: ReadonlyMap<string, FileState>;
  /** The head and the commits before it, newest first (verify reads only). */
  readonly history: readonly {
    oid: string;
    url: string | undefined;
    message: string;
    parents: readonly string[];
  }[];
  readonly openFailoverPullRequests?: readonly PullRequestInfo[];
  readonly failoverBranches?: ReadonlyMap<string, FailoverBranchState>;
}

/**
 * The GitOpsRepo port over the GitHub API, without a clone: one GraphQL query reads a head
 * and N files from the same commit, one `createCommitOnBranch` mutation writes N files as one
 * compare-and-swap commit (signed by GitHub for an App, since no author is set).
 */
export class GitHubRepo implements GitOpsRepo {
  readonly description: string;
  readonly #client: GitHubClient;
  readonly #owner: string;
  readonly #repo: string;
  readonly #serverUrl: string;
  #defaultBranch: Promise<string> | undefined;
  /** What failover reads learn about the repository, for the pull-request port to share. */
  readonly facts: RepositoryFacts;

  constructor(options: GitHubRepoOptions) {
    for (const [what, value] of [
      ["owner", options.owner],
      ["repo", options.repo],
    ] as const) {
      if (typeof value !== "string" || !/^[A-Za-z0-9._-]+$/.test(value)) {
        throw new FailoverError(
          "config_invalid",
          `invalid GitHub ${what} ${JSON.stringify(value)}`,
        );
      }
    }
    this.#client = options.octokit;
    this.#owner = options.owner;
    this.#repo = options.repo;
    this.#serverUrl = (options.serverUrl ?? "https://github.com").replace(/\/+$/, "");
    this.facts = options.facts ?? new RepositoryFacts();
    let host: string;
    try {
      const url = new URL(this.#serverUrl);
      host = `${url.host}${url.pathname.replace(/\/+$/, "")}`;
    } catch (error) {
      throw new FailoverError("config_invalid", "invalid GitHub server URL", { cause: error });
    }
    this.description = `${host}/${this.#owner}/${this.#repo}`;
  }

  defaultBranch(): Promise<string> {
    this.#defaultBranch ??= this.#request("GET /repos/{owner}/{repo}", {}, "repository lookup")
      .then((data) => this.#parse(defaultBranchResponse, data, "repository").default_branch)
      .catch((error: unknown) => {
        this.#defaultBranch = undefined;
        throw error;
      });
    return this.#defaultBranch;
  }

  /**
   * The branch's ref by REST, conditional on the ETag of the previous answer: GitHub answers
   * 304 Not Modified while the ref is unchanged, and a 304 to an authorised request does not
   * count against the rate limit. (ETags are per token: after an installation token renews,
   * the first probe is a 200 again.)
   */
  async probeHead(branch: string, seen?: SeenHead): Promise<HeadProbe> {
    validateBranch(branch);
    const conditional = seen?.validator !== undefined;
    let response: { data: unknown; headers?: unknown };
    try {
      response = await this.#client.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
        owner: this.#owner,
        repo: this.#repo,
        ref: `heads/${branch}`,
        ...(conditional ? { headers: { "if-none-match": seen.validator } } : {}),
      });
    } catch (error) {
      if (httpStatus(error) === 304 && seen !== undefined && conditional) {
        const headers = (error as { response?: { headers?: unknown } }).response?.headers;
        const validator = etagHeaders.safeParse(headers).data?.etag ?? seen.validator;
        return {
          head: seen.head,
          ...(validator === undefined ? {} : { validator }),
          unchanged: true,
        };
      }
      throw toFailoverError(error, {
        action: "branch head lookup",
        where: this.description,
        notFound: `branch ${branch} not found in ${this.description}`,
      });
    }
    const head = this.#parse(refResponse, response.data, "ref").object.sha.toLowerCase();
    const validator = this.#parse(etagHeaders, response.headers ?? {}, "ref headers").etag;
    return {
      head,
      ...(validator === undefined ? {} : { validator }),
      unchanged: head === seen?.head,
    };
  }

  async read(branch: string, paths: readonly string[], options?: ReadOptions): Promise<Snapshot> {
    validateBranch(branch);
    for (const path of paths) validateRepoPath(path);
    const commit = await this.#readCommit(
      branch,
      [...new Set(paths)],
      false,
      options?.failover === true,
      new Set(options?.textless ?? []),
    );
    const files = new Map<string, string | null>();
    const unreadable = new Map<string, string>();
    const blobIds = new Map<string, string>();
    for (const [path, state] of commit.files) {
      if (state.oid !== undefined && state.kind !== "missing") blobIds.set(path, state.oid);
      // Known by its id only: not in `files` (null there would say it does not exist).
      if (state.kind === "id") continue;
      if (state.kind === "truncated") {
        unreadable.set(
          path,
          `larger than the ${GRAPHQL_TEXT_LIMIT_BYTES} bytes GitHub's GraphQL API returns`,
        );
      } else if (state.kind === "binary") {
        unreadable.set(path, "a binary file, not text");
      }
      files.set(path, state.kind === "text" ? state.text : null);
    }
    return {
      head: commit.oid,
      files,
      ...(unreadable.size > 0 ? { unreadable } : {}),
      ...(blobIds.size > 0 ? { blobIds } : {}),
      ...(commit.openFailoverPullRequests === undefined
        ? {}
        : { openFailoverPullRequests: commit.openFailoverPullRequests }),
      ...(commit.failoverBranches === undefined
        ? {}
        : { failoverBranches: commit.failoverBranches }),
    };
  }

  async listFiles(branch: string, prefix: string): Promise<string[]> {
    validateBranch(branch);
    if (typeof prefix !== "string" || /[\0\n\r]/.test(prefix) || prefix.startsWith("/")) {
      throw new FailoverError("invalid_input", `invalid prefix ${JSON.stringify(prefix)}`);
    }
    const budget = { left: MAX_TREE_REQUESTS };
    const files = await this.#listTree(branch, branch, "", prefix, budget);
    return files.filter((path) => path.startsWith(prefix));
  }

  /**
   * Blob paths under `treeish` (a branch or a tree sha, whose path is `base`): one recursive
   * request, or, when GitHub truncates it, the directory's own entries and each
   * subdirectory that can hold `prefix` the same way, so a huge repository still lists.
   */
  async #listTree(
    branch: string,
    treeish: string,
    base: string,
    prefix: string,
    budget: { left: number },
  ): Promise<string[]> {
    const tree = await this.#treeRequest(branch, treeish, true, budget);
    if (tree.truncated !== true) {
      return tree.tree.filter((e) => e.type === "blob").map((e) => `${base}${e.path}`);
    }
    const flat = await this.#treeRequest(branch, treeish, false, budget);
    if (flat.truncated === true) throw this.#tooLarge(branch);
    const out: string[] = [];
    for (const entry of flat.tree) {
      const path = `${base}${entry.path}`;
      if (entry.type === "blob") out.push(path);
      if (entry.type !== "tree" || entry.sha === undefined) continue;
      const dir = `${path}/`;
      if (!dir.startsWith(prefix) && !prefix.startsWith(dir)) continue;
      out.push(...(await this.#listTree(branch, entry.sha, dir, prefix, budget)));
    }
    return out;
  }

  async #treeRequest(
    branch: string,
    treeish: string,
    recursive: boolean,
    budget: { left: number },
  ): Promise<z.infer<typeof treeResponse>> {
    if (budget.left-- <= 0) throw this.#tooLarge(branch);
    const data = await this.#request(
      "GET /repos/{owner}/{repo}/git/trees/{tree_sha}",
      recursive ? { tree_sha: treeish, recursive: "1" } : { tree_sha: treeish },
      "tree listing",
      `branch ${branch} not found in ${this.description}`,
    );
    return this.#parse(treeResponse, data, "tree");
  }

  #tooLarge(branch: string): FailoverError {
    return new FailoverError(
      "upstream",
      `the file list of ${branch} in ${this.description} is too large to list ` +
        `(GitHub truncated it even directory by directory, or it took over ${MAX_TREE_REQUESTS} requests); ` +
        `set "path" for its services in the config: services with a path need no file list`,
      { details: { branch } },
    );
  }

  async history(branch: string, options: HistoryRequest): Promise<HistoryEntry[]> {
    const { limit, path, trailer, paths } = validateHistoryRequest(branch, options);
    if (limit === 0) return [];
    if (trailer !== undefined) return this.#failoverHistory(branch, trailer, paths, limit);
    const perPage = Math.min(limit, MAX_PER_PAGE);
    const entries: HistoryEntry[] = [];
    for (let page = 1; entries.length < limit; page++) {
      const params: Record<string, unknown> = { sha: branch, per_page: perPage };
      if (path !== undefined) params.path = path;
      if (page > 1) params.page = page;
      const data = await this.#request(
        "GET /repos/{owner}/{repo}/commits",
        params,
        "commit history",
        `branch ${branch} not found in ${this.description}`,
      );
      const commits = this.#parse(commitsResponse, data, "commits");
      for (const c of commits) {
        entries.push({
          sha: c.sha,
          message: c.commit.message,
          date: c.commit.committer?.date ?? c.commit.author?.date ?? "",
          author: c.author?.login ?? c.commit.author?.name ?? c.commit.committer?.name ?? "unknown",
          url: c.html_url ?? this.#commitUrl(c.sha),
        });
      }
      if (commits.length < perPage) break;
    }
    return entries.slice(0, limit);
  }

  async commit(request: CommitRequest): Promise<CommitResult> {
    const branch = validateBranch(request.branch);
    const expected = validateSha(request.expectedHead);
    const { headline, body } = splitCommitMessage(validateMessage(request.message));
    const changes = validateChanges(request.changes);
    const message: Record<string, string> = { headline };
    if (body !== "") message.body = body;
    const input = {
      branch: { repositoryNameWithOwner: `${this.#owner}/${this.#repo}`, branchName: branch },
      expectedHeadOid: expected,
      message,
      fileChanges: {
        additions: changes.map((c) => ({
          path: c.path,
          contents: Buffer.from(c.text, "utf8").toString("base64"),
        })),
      },
    };
    const context = { action: "createCommitOnBranch", where: this.description };
    let data: unknown;
    try {
      data = await this.#client.graphql(CREATE_COMMIT_MUTATION, { input });
    } catch (error) {
      const composed = composeCommitMessage(headline, body);
      if (isStaleData(error)) {
        // The retry plugin may have re-sent a write that had landed: then the "stale" head
        // is our own commit. Anything else is a real conflict.
        const check = await this.#findLanded(branch, expected, composed, changes).catch(() => ({
          landed: undefined,
          actual: undefined,
        }));
        if (check.landed !== undefined) return check.landed;
        throw new StaleHeadError(branch, expected, check.actual);
      }
      if (answerMayBeLost(error)) {
        const check = await this.#findLanded(branch, expected, composed, changes).catch(
          () => undefined,
        );
        if (check?.landed !== undefined) return check.landed;
      }
      throw toFailoverError(error, {
        ...context,
        notFound: `branch ${branch} not found in ${this.description}`,
      });
    }
    const commit = this.#parse(createCommitResponse, data, "createCommitOnBranch")
      .createCommitOnBranch?.commit;
    if (commit === null || commit === undefined) {
      throw new FailoverError(
        "upstream",
        `GitHub createCommitOnBranch on ${this.description} returned no commit`,
      );
    }
    return { sha: commit.oid, url: commit.url ?? this.#commitUrl(commit.oid) };
  }

  /**
   * Whether our write landed although its answer was lost or replaced by a retry's answer:
   * the head is exactly our write (one parent, `expected`, our message, our file contents),
   * or, when others have committed on top since, one of the last LANDED_LOOKBACK commits is
   * ours: parent `expected` and our message, which names this request (`Failover-Request:`
   * trailer, a fresh id per request), so it cannot be anyone else's.
   */
  async #findLanded(
    branch: string,
    expected: string,
    message: string,
    changes: readonly FileChange[],
  ): Promise<{ landed: CommitResult | undefined; actual: string | undefined }> {
    const head = await this.#readCommit(
      branch,
      changes.map((c) => c.path),
      true,
    );
    const sameFiles = changes.every((c) => {
      const state = head.files.get(c.path);
      return state?.kind === "text" && state.text === c.text;
    });
    const ours = (c: { parents: readonly string[]; message: string | undefined }) =>
      c.parents.length === 1 &&
      c.parents[0] === expected &&
      c.message !== undefined &&
      normalizeMessage(c.message) === normalizeMessage(message);
    if (ours(head) && sameFiles) {
      return {
        landed: { sha: head.oid, url: head.url ?? this.#commitUrl(head.oid) },
        actual: head.oid,
      };
    }
    const earlier = hasRequestId(message) ? head.history.slice(1).find((c) => ours(c)) : undefined;
    return {
      landed:
        earlier === undefined
          ? undefined
          : { sha: earlier.oid, url: earlier.url ?? this.#commitUrl(earlier.oid) },
      actual: head.oid,
    };
  }

  /**
   * Failover commits by trailer: the history of each of `paths` in ONE GraphQL query (GitHub
   * cannot search commit messages), filtered by the trailer line; newest first.
   */
  async #failoverHistory(
    branch: string,
    trailer: string,
    paths: readonly string[],
    limit: number,
  ): Promise<HistoryEntry[]> {
    const walked = paths.slice(0, MAX_HISTORY_PATHS);
    const variables: Record<string, unknown> = {
      owner: this.#owner,
      name: this.#repo,
      qualifiedName: `refs/heads/${branch}`,
      first: Math.min(MAX_PER_PAGE, Math.max(limit * 3, 20)),
    };
    walked.forEach((path, i) => {
      variables[`p${i}`] = path;
    });
    const notFound = `branch ${branch} not found in ${this.description}`;
    let data: unknown;
    try {
      data = await this.#client.graphql(historyQuery(walked.length), variables);
    } catch (error) {
      throw toFailoverError(error, { action: "commit history", where: this.description, notFound });
    }
    const count = Math.max(walked.length, 1);
    const parsed = this.#parse(historyResponse, data, "commit history");
    const target = parsed.repository?.ref?.target;
    if (target === null || target === undefined) {
      throw new FailoverError("not_found", notFound, { details: { branch } });
    }
    const record = target as unknown as Record<string, z.infer<typeof historyWalk> | undefined>;
    const seen = new Map<string, HistoryEntry>();
    for (let i = 0; i < count; i++) {
      for (const c of record[`h${i}`]?.nodes ?? []) {
        if (c === null || seen.has(c.oid)) continue;
        if (!c.message.split("\n").some((line) => line.trim() === trailer)) continue;
        seen.set(c.oid, {
          sha: c.oid,
          message: c.message,
          date: c.committedDate,
          author: c.author?.user?.login ?? c.author?.name ?? "unknown",
          url: c.url ?? this.#commitUrl(c.oid),
        });
      }
    }
    return [...seen.values()].sort((a, b) => b.date.localeCompare(a.date)).slice(0, limit);
  }

  async #readCommit(
    branch: string,
    paths: readonly string[],
    verify: boolean,
    failover = false,
    textless: ReadonlySet<string> = new Set(),
  ): Promise<CommitRead> {
    const variables: Record<string, unknown> = {
      owner: this.#owner,
      name: this.#repo,
      qualifiedName: `refs/heads/${branch}`,
    };
    if (failover) variables.branchName = branch;
    paths.forEach((path, i) => {
      variables[`p${i}`] = path;
    });
    const notFound = `branch ${branch} not found in ${this.description}`;
    let data: unknown;
    try {
      const idsOnly = new Set(paths.flatMap((p, i) => (textless.has(p) ? [i] : [])));
      data = await this.#client.graphql(
        readFilesQuery(paths.length, { verify, failover, textless: idsOnly }),
        variables,
      );
    } catch (error) {
      throw toFailoverError(error, { action: "read", where: this.description, notFound });
    }
    const parsed = this.#parse(readFilesResponse, data, "read");
    if (parsed.repository === null) {
      throw new FailoverError(
        "not_found",
        `${this.description} not found (or the app cannot see it)`,
      );
    }
    const target = parsed.repository.ref?.target;
    if (target === null || target === undefined) {
      throw new FailoverError("not_found", notFound, { details: { branch } });
    }
    if (target.__typename !== "Commit" || target.oid === undefined) {
      throw new FailoverError(
        "upstream",
        `${branch} in ${this.description} does not point to a commit`,
      );
    }
    const files = new Map<string, FileState>();
    const record = target as unknown as Record<string, FileEntry | undefined>;
    paths.forEach((path, i) => {
      files.set(path, fileState(record[`f${i}`], textless.has(path)));
    });
    const { id, deleteBranchOnMerge } = parsed.repository;
    if (failover && id !== undefined && typeof deleteBranchOnMerge === "boolean") {
      this.facts.learn({ id, deleteBranchOnMerge });
    }
    const pulls = parsed.repository.failoverPulls;
    const refs = parsed.repository.failoverRefs;
    return {
      ...(failover && pulls != null && !pulls.pageInfo.hasNextPage
        ? { openFailoverPullRequests: failoverPullRequests(pulls.nodes, branch) }
        : {}),
      ...(failover && refs != null && !refs.pageInfo.hasNextPage
        ? { failoverBranches: failoverBranchStates(refs.nodes) }
        : {}),
      oid: target.oid.toLowerCase(),
      url: target.url,
      message: target.message,
      parents: oids(target.parents),
      files,
      history: (target.history?.nodes ?? []).flatMap((n) =>
        n === null
          ? []
          : [
              {
                oid: n.oid.toLowerCase(),
                url: n.url,
                message: n.message,
                parents: oids(n.parents),
              },
            ],
      ),
    };
  }

  async #request(
    route: string,
    params: Record<string, unknown>,
    action: string,
    notFound?: string,
  ): Promise<unknown> {
    try {
      const response = await this.#client.request(route, {
        owner: this.#owner,
        repo: this.#repo,
        ...params,
      });
      return response.data;
    } catch (error) {
      throw toFailoverError(error, {
        action,
        where: this.description,
        ...(notFound === undefined ? {} : { notFound }),
      });
    }
  }

  #parse<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
    const result = schema.safeParse(data);
    if (!result.success) {
      throw new FailoverError(
        "upstream",
        `unexpected ${what} answer from GitHub for ${this.description}: ${z.prettifyError(result.error).split("\n", 2).join(" ")}`,
        { cause: result.error },
      );
    }
    return result.data;
  }

  #commitUrl(sha: string): string {
    return `${this.#serverUrl}/${this.#owner}/${this.#repo}/commit/${sha}`;
  }
}

/** Open PRs into `base` from a `failover/*` branch of this repository (not a fork's). */
function failoverPullRequests(
  nodes: NonNullable<z.infer<typeof failoverPulls>>["nodes"],
  base: string,
): PullRequestInfo[] {
  return nodes.flatMap((n) =>
    n === null ||
    n.isCrossRepository ||
    n.baseRefName !== base ||
    !n.headRefName.startsWith("failover/")
      ? []
      : [
          {
            number: n.number,
            nodeId: n.id,
            url: n.url,
            headRef: n.headRefName,
            headSha: n.headRefOid.toLowerCase(),
            baseRef: n.baseRefName,
          },
        ],
  );
}

function failoverBranchStates(
  nodes: NonNullable<z.infer<typeof failoverRefs>>["nodes"],
): Map<string, FailoverBranchState> {
  const out = new Map<string, FailoverBranchState>();
  for (const n of nodes) {
    if (n === null || n.target === null) continue;
    // `refs(refPrefix:)` names a ref without its prefix; keep the "failover/" form either way.
    const name = n.name.startsWith("failover/") ? n.name : `failover/${n.name}`;
    const head = n.target.oid.toLowerCase();
    // A PR of it merged at exactly this head (squash and rebase merges leave the branch's own
    // commits out of the base): everything on it reached the base all the same.
    const mergedHere = (n.associatedPullRequests?.nodes ?? []).some(
      (pr) => pr?.headRefOid.toLowerCase() === head,
    );
    out.set(name, { head, unmerged: mergedHere ? 0 : n.compare?.behindBy });
  }
  return out;
}

function oids(parents: z.infer<typeof parentsField> | undefined): string[] {
  return (parents?.nodes ?? []).flatMap((n) => (n === null ? [] : [n.oid.toLowerCase()]));
}

/** A message naming its request (the `Failover-Request:` trailer), so unique to one write. */
function hasRequestId(message: string): boolean {
  return /^Failover-Request: \S+$/m.test(message);
}

function fileState(entry: FileEntry | undefined, idOnly = false): FileState {
  // No entry: the path does not exist. A non-blob object: a directory or a submodule.
  const object = entry?.object;
  if (object === null || object === undefined || object.__typename !== "Blob") {
    return { kind: "missing" };
  }
  const id = object.oid === undefined ? {} : { oid: object.oid.toLowerCase() };
  if (idOnly) return { kind: "id", ...id };
  if (object.isTruncated === true) return { kind: "truncated", ...id };
  if (object.isBinary === true || typeof object.text !== "string") return { kind: "binary", ...id };
  return { kind: "text", text: object.text, ...id };
}

/**
 * GitHub's CommitMessage: `headline` is the first line, `body` what follows the blank line.
 * GitHub joins them back as "headline\n\nbody".
 */
export function splitCommitMessage(message: string): { headline: string; body: string } {
  const text = message.replace(/\r\n?/g, "\n");
  const newline = text.indexOf("\n");
  if (newline < 0) return { headline: text.trim(), body: "" };
  return {
    headline: text.slice(0, newline).trim(),
    body: text
      .slice(newline + 1)
      .replace(/^(?:[ \t]*\n)+/, "")
      .trimEnd(),
  };
}

export function composeCommitMessage(headline: string, body: string): string {
  return body === "" ? headline : `${headline}\n\n${body}`;
}

function normalizeMessage(message: string): string {
  return message.replace(/\r\n?/g, "\n").trimEnd();
}

function validateMessage(message: unknown): string {
  if (typeof message !== "string" || message.includes("\0")) {
    throw new FailoverError("invalid_input", "commit message must be text without NUL");
  }
  if (splitCommitMessage(message).headline === "") {
    throw new FailoverError("invalid_input", "commit message must start with a non-empty line");
  }
  return message;
}

function validateChanges(changes: unknown): FileChange[] {
  if (!Array.isArray(changes) || changes.length === 0) {
    throw new FailoverError("invalid_input", "a commit needs at least one file change");
  }
  const seen = new Set<string>();
  const out: FileChange[] = [];
  for (const change of changes as unknown[]) {
    const { path, text } = (change ?? {}) as { path?: unknown; text?: unknown };
    const valid = validateRepoPath(path);
    if (typeof text !== "string") {
      throw new FailoverError("invalid_input", `change to ${valid} has no text`);
    }
    if (seen.has(valid)) {
      throw new FailoverError("invalid_input", `${valid} is changed more than once in one commit`);
    }
    seen.add(valid);
    out.push({ path: valid, text });
  }
  for (const { path } of out) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (seen.has(parent)) {
        throw new FailoverError("invalid_input", `${parent} cannot be both a file and a directory`);
      }
    }
  }
  return out;
}
