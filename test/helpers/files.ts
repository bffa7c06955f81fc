import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { EXAMPLES_DIR } from "../../src/demo/demo-repo.js";

/** Every file below `root` as repository path -> text (sorted; `skip` names are left out). */
export function filesUnder(root: string, skip: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      if (skip.includes(entry)) continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(root, path).split("\\").join("/")] = readFileSync(path, "utf8");
    }
  };
  walk(root);
  return out;
}

/** examples/gitops-repo: the demo GitOps repository's files. */
export function demoRepoFiles(): Record<string, string> {
  return filesUnder(join(EXAMPLES_DIR, "gitops-repo"));
}
