import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalGitRepo } from "../../src/repo/local/local-git-repo.js";
import { copyOfRepo } from "./repo-template.js";

export interface TempRepo {
  /** Absolute path of the non-bare repository (its work tree). */
  readonly dir: string;
  readonly repo: LocalGitRepo;
  /** The initial commit. */
  readonly head: string;
  readonly branch: string;
  cleanup(): Promise<void>;
}

/** A fresh temp directory (caller removes it with removeTempDir). */
export function makeTempDir(prefix = "failover-api-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * A non-bare repository in a new temp dir with one commit of `files` on `branch` (default
 * "main"), checked out, and a local identity so tests may also commit with the git CLI.
 * A copy of a template made once per process by initRepo (repo-template.ts): the same
 * repository, without the dozen git processes (test/repo/local-git-repo.test.ts tests
 * initRepo itself).
 */
export async function makeTempRepo(
  files: Record<string, string>,
  options: { branch?: string; message?: string } = {},
): Promise<TempRepo> {
  const parent = await makeTempDir();
  const dir = join(parent, "repo");
  const branch = options.branch ?? "main";
  try {
    const head = await copyOfRepo(files, dir, {
      branch,
      message: options.message ?? "Initial commit",
      config: [
        ["user.name", "Test User"],
        ["user.email", "test@example.invalid"],
        ["commit.gpgsign", "false"],
      ],
    });
    return {
      dir,
      repo: new LocalGitRepo({ dir }),
      head,
      branch,
      cleanup: () => removeTempDir(parent),
    };
  } catch (error) {
    await removeTempDir(parent);
    throw error;
  }
}
