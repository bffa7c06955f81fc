import { isMap, isSeq, type YAMLMap } from "yaml";
import { parseManifest } from "../../yaml/parse-manifest.js";
import { stringOf, valueAt } from "../../yaml/yaml-nodes.js";
import { mapRoots } from "../k8s-objects.js";
import { normalizeRepoPath } from "./repo-paths.js";

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

/**
 * Every path a kustomize Kustomization names: `resources`, `components`, `bases`, patch
 * files, generator inputs (`configMapGenerator`/`secretGenerator` `files`, `envs`, `env`:
 * Flux substitutes in what they generate too), `generators`, `transformers`, `crds`.
 * `helmCharts` are rendered from outside the repository: reported as such.
 */
function entriesOf(root: YAMLMap): { paths: string[]; unseen: string[] } {
  const paths: string[] = [];
  const unseen: string[] = [];
  const list = (node: unknown) => (isSeq(node) ? node.items.flatMap((i) => stringOf(i) ?? []) : []);
  for (const key of [
    "resources",
    "components",
    "bases",
    "patchesStrategicMerge",
    "crds",
    "generators",
    "transformers",
  ]) {
    paths.push(...list(valueAt(root, key)));
  }
  const patches = valueAt(root, "patches");
  if (isSeq(patches)) {
    for (const item of patches.items) {
      const path = isMap(item) ? stringOf(valueAt(item, "path")) : undefined;
      if (path !== undefined) paths.push(path);
    }
  }
  for (const key of ["configMapGenerator", "secretGenerator"]) {
    const generators = valueAt(root, key);
    if (!isSeq(generators)) continue;
    for (const g of generators.items) {
      if (!isMap(g)) continue;
      for (const f of list(valueAt(g, "files"))) paths.push(f.slice(f.indexOf("=") + 1));
      paths.push(...list(valueAt(g, "envs")));
      const env = stringOf(valueAt(g, "env"));
      if (env !== undefined) paths.push(env);
    }
  }
  if (valueAt(root, "helmCharts") !== undefined) unseen.push("helmCharts (rendered from a chart)");
  return { paths, unseen };
}

/**
 * The files a Flux Kustomization with `spec.path` `specPath` and `spec.components`
 * `components` builds, as kustomize-controller does: a folder with a kustomization file
 * builds what that file names (followed transitively, wherever it points); a folder without
 * one builds every YAML file in it and each sub-folder in turn (Flux generates the
 * kustomization). `texts` holds what has been read; kustomization files not read yet are
 * reported in `unread`, and the caller reads them and asks again.
 */
export function buildSet(
  specPath: string,
  components: readonly string[],
  tree: readonly string[],
  texts: ReadonlyMap<string, string | null>,
): BuildSet {
  const base = normalizeRepoPath(specPath);
  const inTree = new Set(tree);
  const files = new Set<string>();
  const unread = new Set<string>();
  const hidden: string[] = [];
  const visited = new Set<string>();
  const queue = [base, ...components.map((c) => join(base, c))];
  while (queue.length > 0 && files.size <= MAX_BUILD_FILES) {
    const target = queue.shift() ?? "";
    if (inTree.has(target)) {
      files.add(target); // a file, named by a kustomization
      continue;
    }
    if (visited.has(target)) continue;
    visited.add(target);
    const prefix = target === "" ? "" : `${target}/`;
    const kustomization = KUSTOMIZATION_FILES.map((n) => `${prefix}${n}`).find((f) =>
      inTree.has(f),
    );
    if (kustomization === undefined) {
      const inside = tree.filter((f) => f.startsWith(prefix));
      if (inside.length === 0) hidden.push(`${target || "./"} (not in the repository)`);
      const subfolders = new Set<string>();
      for (const f of inside) {
        const rest = f.slice(prefix.length);
        const slash = rest.indexOf("/");
        if (slash < 0) {
          if (YAML.test(f)) files.add(f);
        } else {
          subfolders.add(`${prefix}${rest.slice(0, slash)}`);
        }
      }
      queue.push(...subfolders);
      continue;
    }
    files.add(kustomization);
    const text = texts.get(kustomization);
    if (text === undefined) {
      unread.add(kustomization);
      continue;
    }
    if (text === null) continue;
    let roots: YAMLMap[];
    try {
      roots = mapRoots(parseManifest(text, kustomization));
    } catch {
      hidden.push(`${kustomization} (does not parse)`);
      continue;
    }
    for (const root of roots) {
      const { paths, unseen } = entriesOf(root);
      hidden.push(...unseen.map((u) => `${kustomization}: ${u}`));
      for (const entry of paths) {
        if (isRemote(entry)) hidden.push(`${kustomization}: remote resource ${entry}`);
        else queue.push(join(target, entry));
      }
    }
  }
  if (files.size > MAX_BUILD_FILES) {
    hidden.push(`more than ${MAX_BUILD_FILES} files under ${specPath || "./"}`);
    return { paths: [], unread: [], hidden };
  }
  const paths = [...files].sort();
  for (const p of paths) if (!texts.has(p)) unread.add(p);
  return { paths, unread: [...unread].sort(), hidden };
}
