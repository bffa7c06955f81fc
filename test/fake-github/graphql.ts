import { readFileSync } from "node:fs";
import {
  assertValidSchema,
  buildSchema,
  type DocumentNode,
  defaultFieldResolver,
  execute,
  type GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  parse,
  validate,
} from "graphql";
import { FailoverError, StaleHeadError } from "../../src/domain/errors.js";
import type { CommitInfo, TreeEntryInfo } from "./git-store.js";
import {
  type FakeMergeMethod,
  type FakePullRequest,
  findPullByNodeId,
  nowIso,
  pullsState,
  refreshPull,
} from "./pull-merge.js";
import type { FakeContext } from "./rest.js";
import { repositoryPullRequests, repositoryRefs, updateRefs } from "./routes/graphql-refs-pulls.js";

/** GitHub cuts `Blob.text` at this many bytes and sets `isTruncated`. */
export const BLOB_TEXT_LIMIT_BYTES = 512_000;

/**
 * Kept on globalThis, not in this module: with `isolate: false` vitest evaluates this module
 * again for every test file a worker runs, and the build takes about half a second.
 */
const SCHEMA = Symbol.for("failover-api.fake-github.schema");

/**
 * The SDL file of @octokit/graphql-schema, read directly: the package's entry point also
 * parses its 5 MB JSON introspection and builds a client schema from it when imported (about
 * half a second per process), for a `validate` the fake does not use. Its `exports` name no
 * subpath, so the file is found in the repository's node_modules.
 */
const GITHUB_SDL = new URL(
  "../../node_modules/@octokit/graphql-schema/schema.graphql",
  import.meta.url,
);

/**
 * GitHub's real GraphQL schema (the SDL in @octokit/graphql-schema), built once per process.
 * The SDL declares two EnterpriseOwnerInfo fields twice, which buildSchema's SDL validation
 * rejects, so it is built with assumeValidSDL and the result checked with assertValidSchema.
 */
export function gitHubSchema(): GraphQLSchema {
  const cache = globalThis as { [SCHEMA]?: GraphQLSchema };
  if (cache[SCHEMA] === undefined) {
    const schema = buildSchema(readFileSync(GITHUB_SDL, "utf8"), { assumeValidSDL: true });
    assertValidSchema(schema);
    cache[SCHEMA] = schema;
  }
  return cache[SCHEMA];
}

const CHECKED = Symbol.for("failover-api.fake-github.checked-queries");
const CHECKED_LIMIT = 2000;

/**
 * A query parsed and validated against the schema, or the errors it gets. The same few query
 * texts come in thousands of times a run, and validating one against GitHub's whole schema is
 * the fake's dearest step, so the outcome is kept per process (on globalThis, like the
 * schema). Both steps depend on nothing but the text and the schema; graphql-js never changes
 * a document it executes.
 */
function checkedDocument(
  query: string,
  schema: GraphQLSchema,
): { document: DocumentNode } | { errors: Record<string, unknown>[] } {
  const store = globalThis as { [CHECKED]?: Map<string, ReturnType<typeof checkedDocument>> };
  store[CHECKED] ??= new Map();
  const cache = store[CHECKED];
  const known = cache.get(query);
  if (known !== undefined) return known;
  let checked: ReturnType<typeof checkedDocument>;
  try {
    const document = parse(query);
    const invalid = validate(schema, document);
    checked = invalid.length > 0 ? { errors: invalid.map(formatError) } : { document };
  } catch (error) {
    checked = { errors: [formatError(error as GraphQLError)] };
  }
  if (cache.size >= CHECKED_LIMIT) cache.clear();
  cache.set(query, checked);
  return checked;
}

/** An error GitHub reports with a top-level `type` (STALE_DATA, NOT_FOUND, ...). */
export class GitHubGraphQLError extends Error {
  readonly type: string;

  constructor(type: string, message: string) {
    super(message);
    this.name = "GitHubGraphQLError";
    this.type = type;
  }
}

/** What the request log records about a GraphQL document, when it parses. */
export interface GraphqlSummary {
  readonly operationName: string | undefined;
  readonly operationType: "query" | "mutation" | "subscription";
  /** Root fields selected, e.g. ["createCommitOnBranch"] (aliases resolved to field names). */
  readonly rootFields: readonly string[];
}

export function summarizeGraphql(body: unknown): GraphqlSummary | undefined {
  const { query, operationName } = (body ?? {}) as { query?: unknown; operationName?: unknown };
  if (typeof query !== "string") return undefined;
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return undefined;
  }
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation =
    typeof operationName === "string"
      ? operations.find((o) => o.name?.value === operationName)
      : operations[0];
  if (operation === undefined) return undefined;
  return {
    operationName: operation.name?.value,
    operationType: operation.operation,
    rootFields: operation.selectionSet.selections.flatMap((s) =>
      s.kind === Kind.FIELD ? [s.name.value] : [],
    ),
  };
}

/** POST /graphql: parse, validate against GitHub's schema, execute. Always HTTP 200, like GitHub. */
export async function handleGraphql(
  fake: FakeContext,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const { query, variables, operationName } = (body ?? {}) as {
    query?: unknown;
    variables?: unknown;
    operationName?: unknown;
  };
  if (typeof query !== "string") {
    return {
      status: 200,
      body: { errors: [{ message: "A query attribute must be specified and must be a string." }] },
    };
  }
  const schema = gitHubSchema();
  const checked = checkedDocument(query, schema);
  if ("errors" in checked) return { status: 200, body: { errors: checked.errors } };
  const { document } = checked;
  const result = await execute({
    schema,
    document,
    rootValue: new RootNode(fake),
    contextValue: fake,
    variableValues:
      typeof variables === "object" && variables !== null
        ? (variables as Record<string, unknown>)
        : undefined,
    operationName: typeof operationName === "string" ? operationName : undefined,
    fieldResolver,
  });
  const out: Record<string, unknown> = { data: result.data ?? null };
  if (result.errors !== undefined && result.errors.length > 0)
    out.errors = result.errors.map(formatError);
  return { status: 200, body: out };
}

/** Resolves fields from the node objects below; a field they lack is reported, not faked. */
const fieldResolver: GraphQLFieldResolver<unknown, FakeContext> = (source, args, context, info) => {
  if (typeof source === "object" && source !== null && info.fieldName in source) {
    return defaultFieldResolver(source, args, context, info);
  }
  throw new Error(`fake GitHub does not implement ${info.parentType.name}.${info.fieldName}`);
};

function formatError(error: GraphQLError): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const original = error.originalError;
  if (original instanceof GitHubGraphQLError) out.type = original.type;
  if (error.path !== undefined) out.path = error.path;
  if (error.locations !== undefined) out.locations = error.locations;
  out.message = error.message;
  if (error.extensions !== undefined && Object.keys(error.extensions).length > 0) {
    out.extensions = error.extensions;
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// Node objects: a property or method per implemented schema field.

const refId = (qualifiedName: string): string =>
  `REF_${Buffer.from(qualifiedName).toString("base64url")}`;

function refFromId(id: string): string | undefined {
  if (!id.startsWith("REF_")) return undefined;
  return Buffer.from(id.slice(4), "base64url").toString("utf8");
}

class RootNode {
  readonly #fake: FakeContext;

  constructor(fake: FakeContext) {
    this.#fake = fake;
  }

  repository(args: { owner: string; name: string }): RepositoryNode {
    const fake = this.#fake;
    if (
      args.owner.toLowerCase() !== fake.owner.toLowerCase() ||
      args.name.toLowerCase() !== fake.repo.toLowerCase()
    ) {
      throw new GitHubGraphQLError(
        "NOT_FOUND",
        `Could not resolve to a Repository with the name '${args.owner}/${args.name}'.`,
      );
    }
    return new RepositoryNode(fake);
  }

  async createCommitOnBranch(args: { input: CreateCommitOnBranchInput }): Promise<unknown> {
    return createCommitOnBranch(this.#fake, args.input);
  }

  async enablePullRequestAutoMerge(args: {
    input: EnablePullRequestAutoMergeInput;
  }): Promise<unknown> {
    return enablePullRequestAutoMerge(this.#fake, args.input);
  }

  updateRefs(args: { input: Parameters<typeof updateRefs>[1] }): Promise<unknown> {
    return updateRefs(this.#fake, args.input);
  }
}

class RepositoryNode {
  readonly __typename = "Repository";
  readonly id = "R_fake";
  readonly isPrivate = true;
  readonly #fake: FakeContext;

  constructor(fake: FakeContext) {
    this.#fake = fake;
  }

  get name(): string {
    return this.#fake.repo;
  }

  get nameWithOwner(): string {
    return `${this.#fake.owner}/${this.#fake.repo}`;
  }

  /** The REST `delete_branch_on_merge` (configureRepo), as GitHub's GraphQL names it. */
  get deleteBranchOnMerge(): boolean {
    return pullsState(this.#fake).settings.deleteBranchOnMerge;
  }

  get url(): string {
    return `${this.#fake.webUrl}/${this.#fake.owner}/${this.#fake.repo}`;
  }

  async defaultBranchRef(): Promise<RefNode | null> {
    return this.ref({ qualifiedName: `refs/heads/${await this.#fake.store.repo.defaultBranch()}` });
  }

  pullRequests(args: Parameters<typeof repositoryPullRequests>[1]): Promise<unknown> {
    return repositoryPullRequests(this.#fake, args);
  }

  refs(args: Parameters<typeof repositoryRefs>[1]): Promise<unknown> {
    return repositoryRefs(this.#fake, args);
  }

  async ref(args: { qualifiedName: string }): Promise<RefNode | null> {
    const found = await this.#fake.store.resolveRef(args.qualifiedName);
    return found === undefined ? null : new RefNode(this.#fake, found.qualifiedName, found.oid);
  }
}

class RefNode {
  readonly __typename = "Ref";
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly #fake: FakeContext;
  readonly #oid: string;

  constructor(fake: FakeContext, qualifiedName: string, oid: string) {
    this.#fake = fake;
    this.#oid = oid;
    this.id = refId(qualifiedName);
    const match = /^(refs\/[^/]+\/)(.*)$/.exec(qualifiedName);
    this.prefix = match?.[1] ?? "";
    this.name = match?.[2] ?? qualifiedName;
  }

  repository(): RepositoryNode {
    return new RepositoryNode(this.#fake);
  }

  target(): Promise<CommitNode> {
    return CommitNode.load(this.#fake, this.#oid);
  }
}

interface Connection<T> {
  totalCount: number;
  nodes: T[];
  edges: { cursor: string; node: T }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

/** One page of a connection: `nodes` start at `offset` of `total`. */
function connection<T>(
  nodes: T[],
  offset: number,
  total: number,
  cursorBase: string,
): Connection<T> {
  const cursor = (i: number): string =>
    Buffer.from(`${cursorBase} ${offset + i}`).toString("base64");
  return {
    totalCount: total,
    nodes,
    edges: nodes.map((node, i) => ({ cursor: cursor(i), node })),
    pageInfo: {
      hasNextPage: offset + nodes.length < total,
      hasPreviousPage: offset > 0,
      startCursor: nodes.length > 0 ? cursor(0) : null,
      endCursor: nodes.length > 0 ? cursor(nodes.length - 1) : null,
    },
  };
}

function pageSize(args: { first?: number | null; last?: number | null }): number {
  if (typeof args.first !== "number") {
    throw new Error(
      "You must provide a `first` value to properly paginate (the fake has no `last`).",
    );
  }
  if (args.first < 0 || args.first > 100) {
    throw new Error(
      `Requesting ${args.first} records on the connection exceeds the \`first\` limit of 100 records.`,
    );
  }
  return args.first;
}

function cursorOffset(after: string | null | undefined): number {
  if (after === null || after === undefined) return 0;
  const index = Number(Buffer.from(after, "base64").toString("utf8").split(" ")[1]);
  return Number.isSafeInteger(index) && index >= 0 ? index + 1 : 0;
}

class CommitNode {
  readonly __typename = "Commit";
  readonly #fake: FakeContext;
  readonly #info: CommitInfo;

  private constructor(fake: FakeContext, info: CommitInfo) {
    this.#fake = fake;
    this.#info = info;
  }

  static async load(fake: FakeContext, oid: string): Promise<CommitNode> {
    return new CommitNode(fake, await fake.store.commit(oid));
  }

  get id(): string {
    return `C_${Buffer.from(this.#info.oid).toString("base64url")}`;
  }
  get oid(): string {
    return this.#info.oid;
  }
  get abbreviatedOid(): string {
    return this.#info.oid.slice(0, 7);
  }
  get url(): string {
    return `${this.#fake.webUrl}/${this.#fake.owner}/${this.#fake.repo}/commit/${this.#info.oid}`;
  }
  get commitUrl(): string {
    return this.url;
  }
  get message(): string {
    return this.#info.message;
  }
  get messageHeadline(): string {
    return this.#info.message.split("\n", 1)[0] ?? "";
  }
  get messageBody(): string {
    const newline = this.#info.message.indexOf("\n");
    return newline < 0 ? "" : this.#info.message.slice(newline + 1).replace(/^\n+/, "");
  }
  get committedDate(): string {
    return this.#info.committer.date;
  }
  get authoredDate(): string {
    return this.#info.author.date;
  }
  get author(): Record<string, unknown> {
    return { ...this.#info.author, user: null };
  }
  get committer(): Record<string, unknown> {
    return { ...this.#info.committer, user: null };
  }
  repository(): RepositoryNode {
    return new RepositoryNode(this.#fake);
  }

  async parents(args: {
    first?: number | null;
    after?: string | null;
  }): Promise<Connection<CommitNode>> {
    const first = pageSize(args);
    const offset = cursorOffset(args.after);
    const all = this.#info.parents;
    const nodes = await Promise.all(
      all.slice(offset, offset + first).map((oid) => CommitNode.load(this.#fake, oid)),
    );
    return connection(nodes, offset, all.length, this.#info.oid);
  }

  async history(args: {
    first?: number | null;
    after?: string | null;
    path?: string | null;
  }): Promise<Connection<CommitNode>> {
    const first = pageSize(args);
    const offset = cursorOffset(args.after);
    const all = await this.#fake.store.log(this.#info.oid, {
      ...(typeof args.path === "string" ? { path: args.path } : {}),
    });
    const nodes = await Promise.all(
      all.slice(offset, offset + first).map((oid) => CommitNode.load(this.#fake, oid)),
    );
    return connection(nodes, offset, all.length, this.#info.oid);
  }

  async tree(): Promise<TreeNode> {
    return new TreeNode(this.#fake, this.#info.tree);
  }

  async file(args: { path: string }): Promise<TreeEntryNode | null> {
    const entry = await this.#fake.store.entry(this.#info.oid, args.path);
    return entry === undefined ? null : new TreeEntryNode(this.#fake, entry);
  }
}

class TreeEntryNode {
  readonly #fake: FakeContext;
  readonly #entry: TreeEntryInfo;

  constructor(fake: FakeContext, entry: TreeEntryInfo) {
    this.#fake = fake;
    this.#entry = entry;
  }

  get name(): string {
    return this.#entry.path.split("/").pop() ?? "";
  }
  get path(): string {
    return this.#entry.path;
  }
  get mode(): number {
    return Number.parseInt(this.#entry.mode, 8);
  }
  get type(): string {
    return this.#entry.type;
  }
  get oid(): string {
    return this.#entry.oid;
  }
  get size(): number {
    return this.#entry.size ?? 0;
  }
  get extension(): string | null {
    const match = /(\.[^./]+)$/.exec(this.name);
    return match?.[1] ?? null;
  }
  get isGenerated(): boolean {
    return false;
  }

  async object(): Promise<BlobNode | TreeNode | null> {
    if (this.#entry.type === "blob") return BlobNode.load(this.#fake, this.#entry.oid);
    if (this.#entry.type === "tree") return new TreeNode(this.#fake, this.#entry.oid);
    return null; // submodule: the commit is in another repository
  }
}

class TreeNode {
  readonly __typename = "Tree";
  readonly oid: string;
  readonly #fake: FakeContext;

  constructor(fake: FakeContext, oid: string) {
    this.#fake = fake;
    this.oid = oid;
  }

  get abbreviatedOid(): string {
    return this.oid.slice(0, 7);
  }

  async entries(): Promise<TreeEntryNode[]> {
    const entries = await this.#fake.store.tree(this.oid, false);
    return entries.map((e) => new TreeEntryNode(this.#fake, e));
  }
}

class BlobNode {
  readonly __typename = "Blob";
  readonly oid: string;
  readonly byteSize: number;
  /** git's own heuristic: a NUL byte in the first 8000 bytes. */
  readonly isBinary: boolean;
  readonly isTruncated: boolean;
  readonly text: string | null;

  private constructor(oid: string, bytes: Buffer) {
    this.oid = oid;
    this.byteSize = bytes.length;
    this.isBinary = bytes.subarray(0, 8000).includes(0);
    this.isTruncated = bytes.length > BLOB_TEXT_LIMIT_BYTES;
    this.text = this.isBinary ? null : bytes.subarray(0, BLOB_TEXT_LIMIT_BYTES).toString("utf8");
  }

  static async load(fake: FakeContext, oid: string): Promise<BlobNode> {
    return new BlobNode(oid, await fake.store.blob(oid));
  }

  get id(): string {
    return `B_${Buffer.from(this.oid).toString("base64url")}`;
  }
  get abbreviatedOid(): string {
    return this.oid.slice(0, 7);
  }
}

// ------------------------------------------------------------------------------------------

interface CreateCommitOnBranchInput {
  branch: {
    repositoryNameWithOwner?: string | null;
    branchName?: string | null;
    id?: string | null;
  };
  expectedHeadOid: string;
  message: { headline: string; body?: string | null };
  fileChanges?: {
    additions?: { path: string; contents: string }[] | null;
    deletions?: { path: string }[] | null;
  } | null;
  clientMutationId?: string | null;
}

async function createCommitOnBranch(
  fake: FakeContext,
  input: CreateCommitOnBranchInput,
): Promise<unknown> {
  const nameWithOwner = `${fake.owner}/${fake.repo}`.toLowerCase();
  let qualifiedName: string | undefined;
  if (typeof input.branch.id === "string") {
    qualifiedName = refFromId(input.branch.id);
  } else if (
    typeof input.branch.repositoryNameWithOwner === "string" &&
    typeof input.branch.branchName === "string"
  ) {
    if (input.branch.repositoryNameWithOwner.toLowerCase() !== nameWithOwner) {
      throw new GitHubGraphQLError(
        "NOT_FOUND",
        `Could not resolve to a Repository with the name '${input.branch.repositoryNameWithOwner}'.`,
      );
    }
    qualifiedName = `refs/heads/${input.branch.branchName.replace(/^refs\/heads\//, "")}`;
  } else {
    throw new GitHubGraphQLError(
      "UNPROCESSABLE",
      "A branch id or both repositoryNameWithOwner and branchName are required.",
    );
  }
  const ref = qualifiedName === undefined ? undefined : await fake.store.resolveRef(qualifiedName);
  if (ref === undefined || !ref.qualifiedName.startsWith("refs/heads/")) {
    throw new GitHubGraphQLError(
      "NOT_FOUND",
      `Could not resolve to a Ref with the name '${qualifiedName ?? ""}'.`,
    );
  }
  if ((input.fileChanges?.deletions ?? []).length > 0) {
    throw new Error("fake GitHub does not implement fileChanges.deletions");
  }
  const branch = ref.qualifiedName.slice("refs/heads/".length);
  const body = input.message.body ?? "";
  const message = body === "" ? input.message.headline : `${input.message.headline}\n\n${body}`;
  const changes = (input.fileChanges?.additions ?? []).map((a) => ({
    path: a.path,
    text: Buffer.from(a.contents, "base64").toString("utf8"),
  }));
  let sha: string;
  try {
    ({ sha } = await fake.store.repo.commit({
      branch,
      expectedHead: input.expectedHeadOid.toLowerCase(),
      message,
      changes,
    }));
  } catch (error) {
    if (error instanceof StaleHeadError) {
      // GitHub's wording, two spaces included.
      throw new GitHubGraphQLError(
        "STALE_DATA",
        `Expected branch to point to "${input.expectedHeadOid}" but it did not.  Pull and try again.`,
      );
    }
    // Deleted since it was resolved above (a concurrent merge deletes its PR branch): GitHub
    // resolves and commits in one step, so it answers as for a branch that is not there.
    if (error instanceof FailoverError && error.code === "not_found") {
      throw new GitHubGraphQLError(
        "NOT_FOUND",
        `Could not resolve to a Ref with the name '${ref.qualifiedName}'.`,
      );
    }
    throw new GitHubGraphQLError(
      "UNPROCESSABLE",
      error instanceof Error ? error.message : String(error),
    );
  }
  return {
    clientMutationId: input.clientMutationId ?? null,
    commit: await CommitNode.load(fake, sha),
    ref: new RefNode(fake, ref.qualifiedName, sha),
  };
}

// ------------------------------------------------------------------------------------------

interface EnablePullRequestAutoMergeInput {
  pullRequestId: string;
  mergeMethod?: "MERGE" | "SQUASH" | "REBASE" | null;
  commitHeadline?: string | null;
  commitBody?: string | null;
  expectedHeadOid?: string | null;
  clientMutationId?: string | null;
}

class PullRequestNode {
  readonly __typename = "PullRequest";
  readonly #fake: FakeContext;
  readonly #pr: FakePullRequest;

  constructor(fake: FakeContext, pr: FakePullRequest) {
    this.#fake = fake;
    this.#pr = pr;
  }

  get id(): string {
    return this.#pr.nodeId;
  }
  get number(): number {
    return this.#pr.number;
  }
  get title(): string {
    return this.#pr.title;
  }
  get url(): string {
    return `${this.#fake.webUrl}/${this.#fake.owner}/${this.#fake.repo}/pull/${this.#pr.number}`;
  }
  get state(): string {
    return this.#pr.merged ? "MERGED" : this.#pr.state.toUpperCase();
  }
  get merged(): boolean {
    return this.#pr.merged;
  }
  get closed(): boolean {
    return this.#pr.state === "closed";
  }
  get headRefName(): string {
    return this.#pr.headRef;
  }
  get headRefOid(): string {
    return this.#pr.headSha;
  }
  get baseRefName(): string {
    return this.#pr.baseRef;
  }
  get autoMergeRequest(): Record<string, unknown> | null {
    const auto = this.#pr.autoMerge;
    if (auto === null) return null;
    return {
      enabledAt: auto.enabledAt,
      mergeMethod: auto.mergeMethod.toUpperCase(),
      commitHeadline: auto.commitHeadline,
      commitBody: auto.commitBody,
      authorEmail: null,
      enabledBy: null,
      pullRequest: this,
    };
  }
}

/**
 * GitHub's three answers, chosen by the fake's settings (configureRepo): arm auto-merge,
 * or refuse because the repository does not allow it, or because the PR is mergeable now.
 */
async function enablePullRequestAutoMerge(
  fake: FakeContext,
  input: EnablePullRequestAutoMergeInput,
): Promise<unknown> {
  const pr = findPullByNodeId(fake, input.pullRequestId);
  if (pr === undefined) {
    throw new GitHubGraphQLError(
      "NOT_FOUND",
      `Could not resolve to a node with the global id of '${input.pullRequestId}'`,
    );
  }
  await refreshPull(fake, pr);
  if (pr.state !== "open") {
    throw new GitHubGraphQLError("UNPROCESSABLE", "Pull request is closed");
  }
  const { settings } = pullsState(fake);
  if (settings.autoMerge === "not_allowed") {
    throw new GitHubGraphQLError(
      "UNPROCESSABLE",
      "Pull request Auto merge is not allowed for this repository",
    );
  }
  if (settings.autoMerge === "clean") {
    throw new GitHubGraphQLError("UNPROCESSABLE", "Pull request is in clean status");
  }
  if (
    typeof input.expectedHeadOid === "string" &&
    input.expectedHeadOid.toLowerCase() !== pr.headSha
  ) {
    throw new GitHubGraphQLError("UNPROCESSABLE", "Head sha didn't match expected head sha");
  }
  pr.autoMerge = {
    mergeMethod: (input.mergeMethod ?? "MERGE").toLowerCase() as FakeMergeMethod,
    enabledAt: nowIso(),
    commitHeadline: input.commitHeadline ?? null,
    commitBody: input.commitBody ?? null,
  };
  pr.updatedAt = nowIso();
  return {
    actor: null,
    clientMutationId: input.clientMutationId ?? null,
    pullRequest: new PullRequestNode(fake, pr),
  };
}
