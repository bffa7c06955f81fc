import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GitRunner, gitFailure } from "../../src/repo/local/git-cli.js";
import { FAKE_BOT_EMAIL, FAKE_BOT_NAME, type FakeGitStore, isSafeRevision } from "./git-store.js";
import { HttpError } from "./rest.js";

/**
 * Pull request state of a fake GitHub, and merges done with real git on its repository.
 *
 * The state is keyed by the fake's FakeGitStore (one per fake): route handlers and GraphQL
 * resolvers reach it through their FakeContext (`fake.store`), tests through the FakeGitHub
 * (`fake.store` too), so both see the same pull requests and settings.
 */

export type FakeMergeMethod = "merge" | "squash" | "rebase";

/** What `enablePullRequestAutoMerge` does; GitHub has these three answers. */
export type FakeAutoMergeBehaviour =
  /** Auto-merge is armed: the PR merges once checks complete (see completeChecks). */
  | "armed"
  /** "Pull request Auto merge is not allowed for this repository" */
  | "not_allowed"
  /** "Pull request is in clean status": nothing to wait for, merge directly. */
  | "clean";

export interface FakeRepoSettings {
  /** The repository's "Automatically delete head branches" (REST delete_branch_on_merge). */
  deleteBranchOnMerge: boolean;
  autoMerge: FakeAutoMergeBehaviour;
}

export interface FakeAutoMerge {
  readonly mergeMethod: FakeMergeMethod;
  readonly enabledAt: string;
  readonly commitHeadline: string | null;
  readonly commitBody: string | null;
}

export interface FakePullRequest {
  readonly number: number;
  readonly nodeId: string;
  readonly headRef: string;
  /** Last known head (open PRs follow their branch; closed ones keep it). */
  headSha: string;
  baseRef: string;
  /** Last known base head. */
  baseSha: string;
  title: string;
  body: string | null;
  state: "open" | "closed";
  merged: boolean;
  mergeCommitSha: string | null;
  mergedAt: string | null;
  closedAt: string | null;
  readonly createdAt: string;
  updatedAt: string;
  autoMerge: FakeAutoMerge | null;
  readonly maintainerCanModify: boolean;
}

export interface FakePullsState {
  readonly settings: FakeRepoSettings;
  readonly pulls: FakePullRequest[];
  nextNumber: number;
  /** How many merges (PUT merge, auto-merge) landed: tests assert "exactly one". */
  merges: number;
}

/** Anything that leads to the fake's repository: a FakeGitHub or a handler's FakeContext. */
export interface HasStore {
  readonly store: FakeGitStore;
}

const states = new WeakMap<FakeGitStore, FakePullsState>();

export function pullsState(fake: HasStore): FakePullsState {
  let state = states.get(fake.store);
  if (state === undefined) {
    state = {
      settings: { deleteBranchOnMerge: false, autoMerge: "armed" },
      pulls: [],
      nextNumber: 1,
      merges: 0,
    };
    states.set(fake.store, state);
  }
  return state;
}

/** Changes the fake repository's settings (delete_branch_on_merge, auto-merge behaviour). */
export function configureRepo(fake: HasStore, settings: Partial<FakeRepoSettings>): void {
  Object.assign(pullsState(fake).settings, settings);
}

export const pullNodeId = (number: number): string =>
  `PR_${Buffer.from(`pull:${number}`).toString("base64url")}`;

export function findPullByNodeId(fake: HasStore, id: string): FakePullRequest | undefined {
  return pullsState(fake).pulls.find((p) => p.nodeId === id);
}

export function findPull(fake: HasStore, number: number): FakePullRequest | undefined {
  return pullsState(fake).pulls.find((p) => p.number === number);
}

export const nowIso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

const runners = new WeakMap<FakeGitStore, GitRunner>();

/** git in the fake's repository; commits it makes are committed by "GitHub", like web merges. */
export function gitOf(fake: HasStore): GitRunner {
  let git = runners.get(fake.store);
  if (git === undefined) {
    git = new GitRunner({
      dir: fake.store.dir,
      authorName: "GitHub",
      authorEmail: "noreply@github.com",
      timeoutMs: 30_000,
    });
    runners.set(fake.store, git);
  }
  return git;
}

/** Brings an open PR's head and base shas up to date with its branches. */
export async function refreshPull(fake: HasStore, pr: FakePullRequest): Promise<void> {
  if (pr.state !== "open") return;
  const head = await fake.store.resolveRef(`refs/heads/${pr.headRef}`);
  if (head !== undefined) pr.headSha = head.oid;
  const base = await fake.store.resolveRef(`refs/heads/${pr.baseRef}`);
  if (base !== undefined) pr.baseSha = base.oid;
}

/** Whether `ancestor` is reachable from `descendant`. */
export async function isAncestor(
  fake: HasStore,
  ancestor: string,
  descendant: string,
): Promise<boolean> {
  try {
    await gitOf(fake).run(["merge-base", "--is-ancestor", ancestor, descendant]);
    return true;
  } catch (error) {
    if (gitFailure(error)?.exitCode === 1) return false;
    throw error;
  }
}

/** The tree of merging `head` into `base` (real 3-way merge), or undefined on conflicts. */
export async function mergeTree(
  fake: HasStore,
  base: string,
  head: string,
): Promise<string | undefined> {
  try {
    const out = await gitOf(fake).text(["merge-tree", "--write-tree", "--no-messages", base, head]);
    return out.split("\n", 1)[0]?.trim();
  } catch (error) {
    if (gitFailure(error)?.exitCode === 1) return undefined; // conflicts
    throw error;
  }
}

/** Whether the PR would merge cleanly into its base now (GitHub's `mergeable`). */
export async function isMergeable(fake: HasStore, pr: FakePullRequest): Promise<boolean> {
  if (pr.state !== "open") return false;
  return (await mergeTree(fake, pr.baseSha, pr.headSha)) !== undefined;
}

export interface MergeRequest {
  readonly method: FakeMergeMethod;
  /** Only merge when the head is still this commit (REST `sha`). */
  readonly sha?: string | undefined;
  readonly commitTitle?: string | undefined;
  readonly commitMessage?: string | undefined;
}

/**
 * Merges an open PR the way GitHub does: a merge commit, a squash commit or rebased commits
 * on the base branch, landed with a compare-and-swap on the base head; the PR becomes
 * merged (merge_commit_sha set) and, with delete_branch_on_merge, its head branch goes.
 * Errors are GitHub's: 409 when `sha` is not the head, 405 when it cannot be merged.
 */
export function mergePull(
  fake: HasStore & { readonly owner: string },
  pr: FakePullRequest,
  request: MergeRequest,
): Promise<{ sha: string; message: string }> {
  // GitHub merges a repository's pull requests one at a time: a second merge of a PR waits
  // for the first, then finds it merged (405), never merging it again.
  const previous = merging.get(fake.store) ?? Promise.resolve();
  const merged = previous.then(() => mergeNow(fake, pr, request));
  merging.set(
    fake.store,
    merged.then(
      () => undefined,
      () => undefined,
    ),
  );
  return merged;
}

const merging = new WeakMap<FakeGitStore, Promise<void>>();

async function mergeNow(
  fake: HasStore & { readonly owner: string },
  pr: FakePullRequest,
  request: MergeRequest,
): Promise<{ sha: string; message: string }> {
  await refreshPull(fake, pr);
  if (pr.state !== "open" || pr.merged) {
    throw new HttpError(405, "Pull Request is not mergeable");
  }
  if (request.sha !== undefined && request.sha.toLowerCase() !== pr.headSha) {
    throw new HttpError(409, "Head branch was modified. Review and try the merge again.");
  }
  const head = pr.headSha;
  const base = pr.baseSha;
  const git = gitOf(fake);
  const tree = await mergeTree(fake, base, head);
  if (tree === undefined) throw new HttpError(405, "Pull Request is not mergeable");

  const botEnv = {
    GIT_AUTHOR_NAME: FAKE_BOT_NAME,
    GIT_AUTHOR_EMAIL: FAKE_BOT_EMAIL,
  };
  let sha: string;
  if (request.method === "merge") {
    const title =
      request.commitTitle ?? `Merge pull request #${pr.number} from ${fake.owner}/${pr.headRef}`;
    const message = joinMessage(title, request.commitMessage ?? pr.title);
    sha = await commitTree(fake, tree, [base, head], message, botEnv);
  } else if (request.method === "squash") {
    const commits = await commitsBetween(fake, base, head);
    const title = request.commitTitle ?? `${pr.title} (#${pr.number})`;
    const defaultBody = (
      await Promise.all(commits.map(async (oid) => `* ${(await fake.store.commit(oid)).message}`))
    ).join("\n\n");
    const message = joinMessage(title, request.commitMessage ?? defaultBody);
    sha = await commitTree(fake, tree, [base], message, botEnv);
  } else {
    sha = await rebaseOnto(fake, base, head);
  }

  try {
    await git.run(["update-ref", `refs/heads/${pr.baseRef}`, sha, base]);
  } catch (error) {
    if (gitFailure(error) !== undefined) {
      throw new HttpError(409, "Base branch was modified. Review and try the merge again.");
    }
    throw error;
  }
  // Merged as the base moved: no other request may see the base moved and the PR open.
  const at = nowIso();
  pr.merged = true;
  pr.state = "closed";
  pr.mergeCommitSha = sha;
  pr.mergedAt = at;
  pr.closedAt = at;
  pr.updatedAt = at;
  pr.baseSha = sha;
  pullsState(fake).merges += 1;
  await syncWorktree(fake, pr.baseRef, base, sha);
  if (pullsState(fake).settings.deleteBranchOnMerge) {
    await deleteBranchIfAt(fake, pr.headRef, head);
  }
  return { sha, message: "Pull Request successfully merged" };
}

/**
 * "Checks completed": GitHub merges every open PR whose auto-merge is armed, with the
 * method auto-merge was armed with. Returns the merge commit shas by PR number.
 */
export async function completeChecks(
  fake: HasStore & { readonly owner: string },
): Promise<Map<number, string>> {
  const merged = new Map<number, string>();
  for (const pr of pullsState(fake).pulls) {
    if (pr.state !== "open" || pr.autoMerge === null) continue;
    const { sha } = await mergePull(fake, pr, {
      method: pr.autoMerge.mergeMethod,
      commitTitle: pr.autoMerge.commitHeadline ?? undefined,
      commitMessage: pr.autoMerge.commitBody ?? undefined,
    });
    merged.set(pr.number, sha);
  }
  return merged;
}

/** Deletes a branch (compare-and-swap on `expected` when given). False when it was not there. */
export async function deleteBranchIfAt(
  fake: HasStore,
  branch: string,
  expected?: string,
): Promise<boolean> {
  const qualifiedName = `refs/heads/${branch}`;
  if (!isSafeRevision(qualifiedName)) return false;
  const found = await fake.store.resolveRef(qualifiedName);
  if (found === undefined) return false;
  const args = ["update-ref", "-d", qualifiedName];
  if (expected !== undefined) args.push(expected);
  try {
    await gitOf(fake).run(args);
  } catch (error) {
    if (gitFailure(error) !== undefined) return false;
    throw error;
  }
  closePullsWithHead(fake, branch);
  return true;
}

/** GitHub closes the open pull requests whose head branch is deleted. */
export function closePullsWithHead(fake: HasStore, branch: string): void {
  const at = nowIso();
  for (const pr of pullsState(fake).pulls) {
    if (pr.state === "open" && pr.headRef === branch) {
      pr.state = "closed";
      pr.closedAt = at;
      pr.updatedAt = at;
      pr.autoMerge = null;
    }
  }
}

/** Commits reachable from `head` but not from `base`, oldest first. */
export async function commitsBetween(
  fake: HasStore,
  base: string,
  head: string,
): Promise<string[]> {
  const out = await fake.store.revList(["--reverse", `${base}..${head}`]);
  return out.split("\n").filter((line) => line !== "");
}

function joinMessage(title: string, body: string): string {
  return body.trim() === "" ? title : `${title}\n\n${body}`;
}

async function commitTree(
  fake: HasStore,
  tree: string,
  parents: readonly string[],
  message: string,
  env: Record<string, string>,
): Promise<string> {
  const args = ["commit-tree", "--no-gpg-sign", tree];
  for (const parent of parents) args.push("-p", parent);
  return (await gitOf(fake).text(args, { input: message, env })).trim();
}

/**
 * Rebase merge: each commit of the PR replayed on the base, keeping its author and message
 * (a 3-way merge per commit in a throw-away index; conflicts make it unmergeable).
 */
async function rebaseOnto(fake: HasStore, base: string, head: string): Promise<string> {
  const git = gitOf(fake);
  let onto = base;
  for (const oid of await commitsBetween(fake, base, head)) {
    const info = await fake.store.commit(oid);
    if (info.parents.length > 1) {
      throw new HttpError(405, "This branch can't be rebased");
    }
    const parent = info.parents[0];
    let tree: string;
    if (parent === onto) {
      tree = info.tree;
    } else {
      const index = join(tmpdir(), `fake-rebase-index-${process.pid}-${++indexCounter}`);
      const env = { GIT_INDEX_FILE: index };
      try {
        await git.run(["read-tree", "-m", "--aggressive", parent ?? onto, onto, oid], { env });
        tree = (await git.text(["write-tree"], { env })).trim();
      } catch (error) {
        if (gitFailure(error) !== undefined) {
          throw new HttpError(405, "This branch can't be rebased");
        }
        throw error;
      } finally {
        await rm(index, { force: true });
      }
    }
    onto = await commitTree(fake, tree, [onto], info.message, {
      GIT_AUTHOR_NAME: info.author.name,
      GIT_AUTHOR_EMAIL: info.author.email,
      GIT_AUTHOR_DATE: info.author.date,
    });
  }
  return onto;
}

let indexCounter = 0;

/** Keeps the fake's checked-out work tree on its branch (best effort, like LocalGitRepo). */
async function syncWorktree(fake: HasStore, branch: string, from: string, to: string) {
  const git = gitOf(fake);
  try {
    const head = (await git.text(["symbolic-ref", "-q", "HEAD"])).trim();
    if (head !== `refs/heads/${branch}`) return;
    await git.run(["update-index", "-q", "--refresh"]).catch(() => undefined);
    await git.run(["read-tree", "-m", "-u", from, to]);
  } catch {
    // The API reads git objects, never the work tree.
  }
}
