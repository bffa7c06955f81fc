import { z } from "zod";
import { FailoverError } from "../../domain/errors.js";
import {
  type AutoMergeResult,
  type BranchComparison,
  type ChangeRequestPort,
  type MergeCommitMessage,
  MergedElsewhereError,
  type MergeMethod,
  type PullRequestInfo,
} from "../change-requests.js";
import type { GitHubClient } from "./client.js";
import { answerMayBeLost, graphqlErrors, httpStatus, toFailoverError } from "./errors.js";
import { ENABLE_AUTO_MERGE_MUTATION } from "./pull-request-queries.js";
import { UPDATE_REFS_MUTATION } from "./queries.js";
import type { RepositoryFacts, RepositorySettings } from "./repository-facts.js";

/** PUT merge sends, when an answer is lost and the PR is not merged (see merge). */
const MERGE_ATTEMPTS = 2;

const pullRequest = z.object({
  number: z.number(),
  node_id: z.string(),
  html_url: z.string(),
  head: z.object({ ref: z.string(), sha: z.string() }),
  base: z.object({ ref: z.string() }),
});
const mergeResponse = z.object({ sha: z.string(), merged: z.boolean().optional() });
const mergedPull = z.object({ merged: z.boolean(), merge_commit_sha: z.string().nullable() });
const refResponse = z.object({ object: z.object({ sha: z.string() }) });
const repoSettings = z.object({
  node_id: z.string().optional(),
  delete_branch_on_merge: z.boolean().optional(),
});
const compareResponse = z.object({
  behind_by: z.number(),
  ahead_by: z.number().optional(),
  files: z
    .array(
      z.object({
        filename: z.string(),
        status: z.string().optional(),
        sha: z.string().nullable().optional(),
      }),
    )
    .optional(),
  commits: z.array(z.object({ sha: z.string(), commit: z.object({ message: z.string() }) })),
});

function toInfo(data: z.infer<typeof pullRequest>): PullRequestInfo {
  return {
    number: data.number,
    nodeId: data.node_id,
    url: data.html_url,
    headRef: data.head.ref,
    headSha: data.head.sha,
    baseRef: data.base.ref,
  };
}

/** GitHub's pull requests, branches and auto-merge, for PR mode. */
export class GitHubChangeRequests implements ChangeRequestPort {
  readonly #client: GitHubClient;
  readonly #repo: { owner: string; repo: string };
  /**
   * The node id and settings, as the last failover read saw them (GitHubRepo's facts): PR mode
   * always follows such a read, so `GET /repos` is only the fallback without one.
   */
  readonly #facts: RepositoryFacts | undefined;
  /** The fallback `GET /repos`, once per process: the node id does not change under us. */
  #settings: Promise<Partial<RepositorySettings>> | undefined;

  constructor(options: {
    octokit: GitHubClient;
    owner: string;
    repo: string;
    /** Shared with the GitHubRepo of the same repository (GitHubRepo.facts). */
    facts?: RepositoryFacts;
  }) {
    this.#client = options.octokit;
    this.#repo = { owner: options.owner, repo: options.repo };
    this.#facts = options.facts;
  }

  async listOpenPullRequests(base: string): Promise<PullRequestInfo[]> {
    const data = await this.#call("pull request list", "GET /repos/{owner}/{repo}/pulls", {
      state: "open",
      base,
      per_page: 100,
    });
    return z.array(pullRequest).parse(data).map(toInfo);
  }

  async findOpenPullRequest(head: string, base: string): Promise<PullRequestInfo | null> {
    const data = await this.#call("pull request lookup", "GET /repos/{owner}/{repo}/pulls", {
      state: "open",
      head: `${this.#repo.owner}:${head}`,
      base,
      per_page: 1,
    });
    const first = z.array(pullRequest).parse(data)[0];
    return first === undefined ? null : toInfo(first);
  }

  async branchHead(branch: string): Promise<string | null> {
    try {
      const data = await this.#client.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
        ...this.#repo,
        ref: `heads/${branch}`,
      });
      return refResponse.parse(data.data).object.sha;
    } catch (error) {
      if (httpStatus(error) === 404) return null;
      throw toFailoverError(error, { action: "branch lookup", where: branch });
    }
  }

  async compareBranch(base: string, branch: string): Promise<BranchComparison> {
    const data = await this.#call(
      "branch comparison",
      "GET /repos/{owner}/{repo}/compare/{basehead}",
      {
        basehead: `${base}...${branch}`,
        per_page: 100,
      },
    );
    const parsed = compareResponse.parse(data);
    const files = parsed.files ?? [];
    const withShas = files.every((f) => f.status === "removed" || typeof f.sha === "string");
    return {
      ahead: parsed.commits.map((c) => ({ sha: c.sha, message: c.commit.message })),
      behindBy: parsed.behind_by,
      changedPaths: files.map((f) => f.filename),
      ...(withShas
        ? {
            changedFiles: files.map((f) => ({
              path: f.filename,
              blobSha: f.status === "removed" ? null : (f.sha ?? null),
            })),
          }
        : {}),
      ...(parsed.ahead_by === undefined ? {} : { aheadBy: parsed.ahead_by }),
    };
  }

  async createBranch(branch: string, sha: string): Promise<void> {
    try {
      await this.#client.request("POST /repos/{owner}/{repo}/git/refs", {
        ...this.#repo,
        ref: `refs/heads/${branch}`,
        sha,
      });
    } catch (error) {
      if (httpStatus(error) === 422) {
        throw new FailoverError("conflict", `branch ${branch} already exists`, { cause: error });
      }
      throw toFailoverError(error, { action: "branch creation", where: branch });
    }
  }

  async moveBranch(branch: string, from: string, to: string): Promise<void> {
    const { id: repositoryId } = await this.#repoSettings();
    if (repositoryId === undefined) {
      throw new FailoverError("upstream", "GitHub gave no node id for the repository");
    }
    try {
      await this.#client.graphql(UPDATE_REFS_MUTATION, {
        input: {
          repositoryId,
          // force: the move need not be a fast-forward; beforeOid makes it a compare-and-swap.
          refUpdates: [
            { name: `refs/heads/${branch}`, beforeOid: from, afterOid: to, force: true },
          ],
        },
      });
    } catch (error) {
      const errors = graphqlErrors(error);
      // Answered, but refused: the branch is not at `from` (moved, or gone) any more.
      if (
        errors !== undefined &&
        !errors.some((e) => /FORBIDDEN|INSUFFICIENT/.test(e.type ?? ""))
      ) {
        throw new FailoverError("conflict", `branch ${branch} moved meanwhile`, {
          cause: error,
          details: { branch, expected: from },
        });
      }
      throw toFailoverError(error, { action: "branch move", where: branch });
    }
  }

  async deleteBranch(branch: string): Promise<void> {
    try {
      await this.#client.request("DELETE /repos/{owner}/{repo}/git/refs/{ref}", {
        ...this.#repo,
        ref: `heads/${branch}`,
      });
    } catch (error) {
      // Already gone (GitHub answers 422 "Reference does not exist", or 404).
      const status = httpStatus(error);
      if (status === 404 || status === 422) return;
      throw toFailoverError(error, { action: "branch deletion", where: branch });
    }
  }

  async openPullRequest(request: {
    head: string;
    base: string;
    title: string;
    body: string;
  }): Promise<PullRequestInfo> {
    try {
      const { data } = await this.#client.request("POST /repos/{owner}/{repo}/pulls", {
        ...this.#repo,
        ...request,
        maintainer_can_modify: false,
      });
      return toInfo(pullRequest.parse(data));
    } catch (error) {
      const failure = toFailoverError(error, {
        action: "pull request creation",
        where: `${this.#repo.owner}/${this.#repo.repo}`,
      });
      // "A pull request already exists", or the head branch is gone: another request's doing.
      if (httpStatus(error) === 422) {
        throw new FailoverError("conflict", failure.message, {
          cause: error,
          ...(failure.details === undefined ? {} : { details: { ...failure.details } }),
        });
      }
      throw failure;
    }
  }

  async updatePullRequest(number: number, update: { title: string; body: string }): Promise<void> {
    await this.#call("pull request update", "PATCH /repos/{owner}/{repo}/pulls/{pull_number}", {
      pull_number: number,
      ...update,
    });
  }

  async closePullRequest(number: number, comment: string): Promise<void> {
    await this.#call("comment", "POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      issue_number: number,
      body: comment,
    });
    await this.#call("pull request close", "PATCH /repos/{owner}/{repo}/pulls/{pull_number}", {
      pull_number: number,
      state: "closed",
    });
  }

  async enableAutoMerge(
    pr: PullRequestInfo,
    method: MergeMethod,
    pin: { readonly message?: MergeCommitMessage; readonly expectedHead?: string } = {},
  ): Promise<AutoMergeResult> {
    const message = method === "rebase" ? undefined : pin.message;
    try {
      await this.#client.graphql(ENABLE_AUTO_MERGE_MUTATION, {
        pullRequestId: pr.nodeId,
        mergeMethod: method.toUpperCase(),
        // Unset variables are left out: GitHub then uses its defaults (and arms any head).
        ...(message === undefined
          ? {}
          : { commitHeadline: message.title, commitBody: message.body }),
        ...(pin.expectedHead === undefined ? {} : { expectedHeadOid: pin.expectedHead }),
      });
      return "armed";
    } catch (error) {
      const messages = (graphqlErrors(error) ?? []).map((e) => e.message).join("; ");
      if (/auto merge is not allowed/i.test(messages)) return "not_allowed";
      // Nothing to wait for: the PR can be merged now (GitHub will not arm auto-merge then).
      if (/is in (clean|unstable|has_hooks) status/i.test(messages)) return "clean";
      // Merged or closed meanwhile, by another request: the caller re-reads.
      // The head moved after the caller checked it: arming now could merge something else.
      if (/head sha didn't match expected head sha/i.test(messages)) {
        throw new FailoverError("conflict", `pull request #${pr.number} head moved meanwhile`, {
          cause: error,
          details: { pr: pr.number },
        });
      }
      if (/pull request is closed/i.test(messages)) {
        throw new FailoverError("conflict", `pull request #${pr.number} was closed meanwhile`, {
          cause: error,
          details: { pr: pr.number },
        });
      }
      throw toFailoverError(error, { action: "auto-merge", where: `#${pr.number}` });
    }
  }

  async merge(
    pr: PullRequestInfo,
    sha: string,
    method: MergeMethod,
    message?: MergeCommitMessage,
  ): Promise<{ sha: string }> {
    const pinned =
      message === undefined || method === "rebase"
        ? {}
        : { commit_title: message.title, commit_message: message.body };
    for (let attempt = 1; ; attempt++) {
      try {
        const data = await this.#client.request(
          "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",
          {
            ...this.#repo,
            pull_number: pr.number,
            sha,
            merge_method: method,
            ...pinned,
            // Not the retry plugin's resend: it would repeat a 405/409 for 14 s, and a resent
            // merge whose first answer was lost ends as 405. The PR itself says what happened.
            request: { retries: 0 },
          },
        );
        return { sha: mergeResponse.parse(data.data).sha };
      } catch (error) {
        const status = httpStatus(error);
        // A merge whose answer was lost (or a resend of one) finds the PR merged already. But
        // when our only send was answered "not mergeable" / "head moved", it was not ours.
        const merged = await this.#mergedSha(pr.number).catch(() => undefined);
        if (merged !== undefined) {
          if (attempt === 1 && (status === 405 || status === 409)) {
            throw new MergedElsewhereError(pr.number, merged);
          }
          return { sha: merged };
        }
        if (status === 409 || status === 405) {
          throw new FailoverError(
            "conflict",
            `pull request #${pr.number} cannot be merged now (${status === 409 ? "its head moved" : "not mergeable"}); it stays open: ${pr.url}`,
            { cause: error, details: { pr: pr.number } },
          );
        }
        // Not merged and the answer may be lost: sending it again is safe, `sha` pins the head.
        if (attempt < MERGE_ATTEMPTS && answerMayBeLost(error)) continue;
        throw toFailoverError(error, { action: "merge", where: `#${pr.number}` });
      }
    }
  }

  async deletesBranchOnMerge(): Promise<boolean> {
    return (await this.#repoSettings()).deleteBranchOnMerge === true;
  }

  #repoSettings(): Promise<Partial<RepositorySettings>> {
    const known = this.#facts?.known();
    if (known !== undefined) return Promise.resolve(known);
    this.#settings ??= this.#call("repository lookup", "GET /repos/{owner}/{repo}", {})
      .then((data) => {
        const parsed = repoSettings.parse(data);
        return {
          ...(parsed.node_id === undefined ? {} : { id: parsed.node_id }),
          deleteBranchOnMerge: parsed.delete_branch_on_merge === true,
        };
      })
      .catch((error: unknown) => {
        this.#settings = undefined;
        throw error;
      });
    return this.#settings;
  }

  async #mergedSha(number: number): Promise<string | undefined> {
    const data = await this.#call(
      "pull request lookup",
      "GET /repos/{owner}/{repo}/pulls/{pull_number}",
      {
        pull_number: number,
      },
    );
    const pull = mergedPull.parse(data);
    return pull.merged && pull.merge_commit_sha !== null ? pull.merge_commit_sha : undefined;
  }

  async #call(
    action: string,
    route: string,
    parameters: Record<string, unknown>,
  ): Promise<unknown> {
    try {
      return (await this.#client.request(route, { ...this.#repo, ...parameters })).data;
    } catch (error) {
      throw toFailoverError(error, { action, where: `${this.#repo.owner}/${this.#repo.repo}` });
    }
  }
}
