import { isMap, isSeq, type YAMLMap } from "yaml";
import { parseManifest } from "../manifest/parse-manifest.js";
import { stringOf, valueAt } from "../manifest/yaml-nodes.js";
import { normalizeRepoPath } from "./repo-paths.js";
import { mapRoots } from "./value-helpers.js";

const YAML = /\.ya?ml$/;
const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
/**
 * More files than this in one build (a cluster-wide Kustomization over every app) and
 * failover does not read them: their uses stay unknown, so the variable is not changed where
 * it is defined (the value is written in place), and no failover reads hundreds of files.
 */
export const MAX_BUILD_FILES = 100;

/** What a Flux Kustomization builds, as far as the repository shows it. */
export interface BuildSet {
  /** YAML files that may end up in the build (an over-approximation: safe for "who else uses it"). */
  readonly paths: readonly string[];
  /** Paths whose text is needed and not yet read (kustomization files to follow, build files). */
  readonly unread: readonly string[];
  /** What cannot be seen from the repository: remote resources, an over-large build. */
  readonly hidden: readonly string[];
}

function join(dir: string, entry: string): string {
  return normalizeRepoPath(dir === "" ? entry : `${dir}/${entry}`);
}

function isRemote(entry: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || /^(github\.com|gitlab\.com|git@)/.test(entry);
}

/** `resources`, `components` and file-valued patches of a kustomize Kustomization. */
function entriesOf(root: YAMLMap): string[] {
  const out: string[] = [];
  for (const key of ["resources", "components", "bases", "patchesStrategicMerge", "crds"]) {
    const list = valueAt(root, key);
    if (!isSeq(list)) continue;
    for (const item of list.items) {
      const s = stringOf(item);
      if (s !== undefined) out.push(s);
    }
  }
  const patches = valueAt(root, "patches");
  if (isSeq(patches)) {
    for (const item of patches.items) {
      const path = isMap(item) ? stringOf(valueAt(item, "path")) : undefined;
      if (path !== undefined) out.push(path);
    }
  }
  return out;
}

/**
 * The files a Flux Kustomization with `spec.path` `specPath` and `spec.components`
 * `components` builds: every YAML file under those folders (Flux generates a kustomization
 * of all of them when there is none; with one, this is a superset), plus what their
 * kustomization files pull in from elsewhere, followed transitively. `texts` holds what has
 * been read; kustomization files not read yet are reported in `unread`.
 */
export function buildSet(
  specPath: string,
  components: readonly string[],
  tree: readonly string[],
  texts: ReadonlyMap<string, string | null>,
): BuildSet {
  const base = normalizeRepoPath(specPath);
  const files = new Set<string>();
  const unread = new Set<string>();
  const hidden: string[] = [];
  const visited = new Set<string>();
  const queue = [base, ...components.map((c) => join(base, c))];
  while (queue.length > 0) {
    const dir = queue.shift() ?? "";
    if (visited.has(dir)) continue;
    visited.add(dir);
    const prefix = dir === "" ? "" : `${dir}/`;
    const inside = tree.filter((f) => f.startsWith(prefix));
    if (inside.length === 0 && tree.includes(dir)) {
      files.add(dir); // a file, not a folder
      continue;
    }
    for (const f of inside) {
      const name = f.split("/").at(-1) ?? "";
      if (YAML.test(f) || KUSTOMIZATION_FILES.includes(name)) files.add(f);
    }
    for (const f of inside.filter((p) => KUSTOMIZATION_FILES.includes(p.split("/").at(-1) ?? ""))) {
      const text = texts.get(f);
      if (text === undefined) {
        unread.add(f);
        continue;
      }
      if (text === null) continue;
      let roots: YAMLMap[];
      try {
        roots = mapRoots(parseManifest(text, f));
      } catch {
        hidden.push(`${f} (does not parse)`);
        continue;
      }
      const at = f.slice(0, Math.max(0, f.lastIndexOf("/")));
      for (const root of roots) {
        for (const entry of entriesOf(root)) {
          if (isRemote(entry)) {
            hidden.push(`${f}: remote resource ${entry}`);
            continue;
          }
          const target = join(at, entry);
          if (!target.startsWith(prefix) || dir === "") queue.push(target);
          else if (tree.includes(target)) files.add(target);
          else queue.push(target);
        }
      }
    }
    if (files.size > MAX_BUILD_FILES) {
      hidden.push(`more than ${MAX_BUILD_FILES} files under ${specPath || "./"}`);
      break;
    }
  }
  if (files.size > MAX_BUILD_FILES) {
    if (!hidden.some((h) => h.startsWith("more than"))) {
      hidden.push(`more than ${MAX_BUILD_FILES} files under ${specPath || "./"}`);
    }
    return { paths: [], unread: [], hidden };
  }
  const paths = [...files].sort();
  for (const p of paths) if (!texts.has(p)) unread.add(p);
  return { paths, unread: [...unread].sort(), hidden };
}
