import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { FailoverError } from "../domain/errors.js";
import { initRepo } from "../repo/local/local-git-repo.js";

/** examples/ ships with the package: the demo GitOps repo and its services config. */
export const EXAMPLES_DIR = fileURLToPath(new URL("../../examples/", import.meta.url));
export const DEMO_CONFIG = join(EXAMPLES_DIR, "services.yaml");
const DEMO_SOURCE = join(EXAMPLES_DIR, "gitops-repo");
/** The demo repository's one commit. */
export const DEMO_COMMIT_MESSAGE = "Demo GitOps repository";

/**
 * Creates the demo GitOps repository from examples/gitops-repo when `dir` does not exist
 * (or is empty), reuses it when it is already a Git repository, and refuses anything else.
 */
export async function ensureDemoRepo(dir: string): Promise<{ created: boolean }> {
  if (existsSync(join(dir, ".git"))) return { created: false };
  if (existsSync(dir) && (await readdir(dir)).length > 0) {
    throw new FailoverError(
      "config_invalid",
      `DEMO_REPO ${dir} exists but is not a Git repository; choose an empty or new folder`,
    );
  }
  const files: Record<string, string> = {};
  for (const file of await listTree(DEMO_SOURCE)) {
    files[relative(DEMO_SOURCE, file).split(sep).join("/")] = await readFile(file, "utf8");
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    // A read-only root filesystem reports EROFS (or ENOENT through a missing parent).
    throw new FailoverError(
      "config_invalid",
      `cannot create the demo repository at ${dir} (${(error as NodeJS.ErrnoException).code ?? "error"}); set DEMO_REPO to a writable directory such as /tmp/demo-repo`,
      { cause: error },
    );
  }
  await initRepo(dir, files, { branch: "main", message: DEMO_COMMIT_MESSAGE });
  return { created: true };
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir)) {
    const path = join(dir, entry);
    if ((await stat(path)).isDirectory()) out.push(...(await listTree(path)));
    else out.push(path);
  }
  return out.sort();
}
