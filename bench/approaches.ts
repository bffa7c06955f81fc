import { Octokit } from "@octokit/core";
import type { Side, WorkloadTarget } from "../src/domain/service.js";
import { inspectTargets, patchTargets } from "../src/domain/targets/engine.js";
import type { GitHubRepo } from "../src/repo/github/github-repo.js";

/** A plain Octokit (no pacing, no retries) on the fake: both approaches below share it. */
export function plainOctokit(baseUrl: string): Octokit {
  return new Octokit({ auth: "x", baseUrl, userAgent: "failover-api-bench" });
}

export interface FileTarget {
  readonly path: string;
  readonly target: WorkloadTarget;
}

/** The file alone, as the engine reads a raw workload's target. */
function engineInput(text: string, file: FileTarget) {
  const files = { texts: new Map([[file.path, text]]), kustomizations: [] };
  const targets = [
    { spec: { type: "workload", path: file.path, workload: file.target }, path: file.path },
  ] as const;
  return { files, targets };
}

/** The other side of wherever the manifest stands now, so every run changes it. */
function flip(text: string, file: FileTarget): Side {
  const { files, targets } = engineInput(text, file);
  return inspectTargets(files, targets).state === "primary" ? "backup" : "primary";
}

function patch(text: string, file: FileTarget): string {
  const { files, targets } = engineInput(text, file);
  const after = patchTargets(files, targets, flip(text, file)).files[0]?.after;
  if (after === undefined) throw new Error(`bench: ${file.path} did not change`);
  return after;
}

interface ContentsFile {
  readonly type: string;
  readonly sha: string;
  readonly content?: string;
  readonly encoding?: string;
}

/**
 * The naive way: per file, GET it with the Contents API, patch it with the project's pure
 * patcher, PUT it back with the blob sha (GitHub answers 409 if the blob changed meanwhile).
 * One commit per file; the files must be written one after the other.
 */
export async function naiveContentsFailover(
  octokit: Octokit,
  where: { owner: string; repo: string; branch: string },
  files: readonly FileTarget[],
): Promise<string> {
  for (const file of files) {
    const { data } = await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner: where.owner,
      repo: where.repo,
      path: file.path,
      ref: where.branch,
    });
    const found = data as unknown as ContentsFile;
    if (found.type !== "file" || found.encoding !== "base64" || found.content === undefined) {
      throw new Error(`bench: ${file.path} is not a base64 file answer`);
    }
    const text = Buffer.from(found.content, "base64").toString("utf8");
    await octokit.request("PUT /repos/{owner}/{repo}/contents/{path}", {
      owner: where.owner,
      repo: where.repo,
      path: file.path,
      branch: where.branch,
      message: `bench: naive failover of ${file.path}`,
      content: Buffer.from(patch(text, file), "utf8").toString("base64"),
      sha: found.sha,
    });
  }
  return `${files.length} ${files.length === 1 ? "commit" : "commits"}`;
}

/**
 * The project's way: one GraphQL read of every file at one head, one createCommitOnBranch
 * holding every change (compare-and-swap on that head), through GitHubRepo itself.
 */
export async function batchedFailover(
  repo: GitHubRepo,
  branch: string,
  files: readonly FileTarget[],
): Promise<string> {
  const snapshot = await repo.read(
    branch,
    files.map((f) => f.path),
  );
  const changes = files.map((file) => {
    const text = snapshot.files.get(file.path);
    if (text === null || text === undefined) throw new Error(`bench: ${file.path} missing`);
    return { path: file.path, text: patch(text, file) };
  });
  await repo.commit({
    branch,
    expectedHead: snapshot.head,
    message: `bench: node-wide failover of ${files.length} services`,
    changes,
  });
  return `1 commit, ${changes.length} ${changes.length === 1 ? "file" : "files"}`;
}
