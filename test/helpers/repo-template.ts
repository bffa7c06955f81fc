import { createHash } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_COMMIT_MESSAGE } from "../../src/demo/demo-repo.js";
import { initRepo } from "../../src/repo/local/local-git-repo.js";
import { runFolder } from "./cli-process.js";
import { copyTree } from "./copy-tree.js";
import { demoRepoFiles } from "./files.js";
import { runSync } from "./run-sync.js";

/**
 * `initRepo(dir, files)` by copying: the repository is made once per process for each set of
 * files and branch, and copied for every test that starts from it. `initRepo` runs a git
 * process per file and a dozen more, and most tests start from the same files (the suite is
 * short of CPU, not of disk). The copies share the initial commit's sha, as clones of one
 * repository do. Returns that sha.
 */
export async function copyOfRepo(
  files: Record<string, string>,
  dir: string,
  options: TemplateOptions = {},
): Promise<string> {
  const template = await templateRepo(files, {
    branch: options.branch ?? "main",
    message: options.message ?? "Initial commit",
    config: options.config ?? [],
  });
  copyTree(template.dir, dir);
  return template.head;
}

/** On globalThis: vitest evaluates this module again for each test file a worker runs. */
const TEMPLATES = Symbol.for("failover-api.test.repo-templates");

export interface TemplateOptions {
  readonly branch?: string;
  /** The initial commit's message (initRepo's default when absent). */
  readonly message?: string;
  /** `git config` entries set in the repository (copied with it). */
  readonly config?: readonly (readonly [string, string])[];
}

interface Template {
  readonly dir: string;
  readonly head: string;
}

interface Templates {
  readonly byFiles: Map<string, Promise<Template>>;
  /** Removed when the process exits. */
  readonly roots: string[];
}

function templateRepo(
  files: Record<string, string>,
  options: Required<TemplateOptions>,
): Promise<Template> {
  const { branch, message, config } = options;
  const store = globalThis as { [TEMPLATES]?: Templates };
  let templates = store[TEMPLATES];
  if (templates === undefined) {
    const made: Templates = { byFiles: new Map(), roots: [] };
    templates = made;
    store[TEMPLATES] = made;
    process.once("exit", () => {
      for (const root of made.roots) rmSync(root, { recursive: true, force: true });
    });
  }
  const { byFiles, roots } = templates;
  const key = createHash("sha256")
    .update(
      JSON.stringify([
        branch,
        message,
        config,
        Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)),
      ]),
    )
    .digest("hex");
  let template = byFiles.get(key);
  if (template === undefined) {
    template = (async () => {
      // In the run's folder, removed at the end of the run: vitest ends its workers without
      // the "exit" event below, so templates in the temp directory outlived every run.
      const root = await mkdtemp(
        join(runFolder("templates") ?? tmpdir(), "failover-api-template-"),
      );
      roots.push(root);
      const dir = join(root, "repo");
      const head = await initRepo(dir, files, { branch, message });
      for (const [key, value] of config) runSync("git", ["-C", dir, "config", key, value]);
      // Fewer files to copy for every test (about 120 to 40): objects in one pack, refs
      // packed, no sample hooks. Git reads the copy exactly as it would the loose repository.
      runSync("git", ["-C", dir, "repack", "-a", "-d", "-q"]);
      runSync("git", ["-C", dir, "pack-refs", "--all"]);
      rmSync(join(dir, ".git", "hooks"), { recursive: true, force: true });
      return { dir, head };
    })();
    template.catch(() => byFiles.delete(key));
    byFiles.set(key, template);
  }
  return template;
}

/**
 * What `ensureDemoRepo(dir)` makes (examples/gitops-repo, one commit on main), as a copy of a
 * template: the in-process servers of the tests start in demo mode by the dozen, and
 * ensureDemoRepo then reuses the repository it finds. A no-op when `dir` holds one already.
 */
export async function demoRepoCopy(dir: string): Promise<void> {
  if (existsSync(join(dir, ".git"))) return;
  await copyOfRepo(demoRepoFiles(), dir, { message: DEMO_COMMIT_MESSAGE });
}

/** Whether an environment leaves the server in demo mode (no repository of its own named). */
export function isDemoMode(env: Readonly<Record<string, string | undefined>>): boolean {
  return (
    env.GITOPS_REPOSITORY === undefined &&
    env.GITOPS_REPO_PATH === undefined &&
    env.DEMO_REPO === undefined
  );
}
