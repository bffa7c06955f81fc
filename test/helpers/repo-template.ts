import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { cp, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initRepo } from "../../src/repo/local/local-git-repo.js";

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
  options: { branch?: string } = {},
): Promise<string> {
  const template = await templateRepo(files, options.branch ?? "main");
  await cp(template.dir, dir, { recursive: true });
  return template.head;
}

/** On globalThis: vitest evaluates this module again for each test file a worker runs. */
const TEMPLATES = Symbol.for("failover-api.test.repo-templates");

interface Template {
  readonly dir: string;
  readonly head: string;
}

interface Templates {
  readonly byFiles: Map<string, Promise<Template>>;
  /** Removed when the process exits. */
  readonly roots: string[];
}

function templateRepo(files: Record<string, string>, branch: string): Promise<Template> {
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
    .update(JSON.stringify([branch, Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))]))
    .digest("hex");
  let template = byFiles.get(key);
  if (template === undefined) {
    template = (async () => {
      const root = await mkdtemp(join(tmpdir(), "failover-api-template-"));
      roots.push(root);
      const dir = join(root, "repo");
      const head = await initRepo(dir, files, { branch });
      return { dir, head };
    })();
    template.catch(() => byFiles.delete(key));
    byFiles.set(key, template);
  }
  return template;
}
