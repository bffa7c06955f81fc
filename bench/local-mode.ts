import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { initRepo, LocalGitRepo } from "../src/repo/local/local-git-repo.js";
import type { Goal, RowReport } from "./bench.js";
import type { Sample } from "./measure.js";
import { demoRepoFiles } from "./setup.js";

const run = promisify(execFile);

/** The file a promote edits: the demo's radarr Deployment (nodeSelector role: primary). */
const MANIFEST = "clusters/homelab/apps/media/radarr/deployment.yaml";
const PROCESS_GOAL: Goal = { text: "git processes <= 4", met: (s) => s.calls <= 4 };

function repoFiles(total: number): Record<string, string> {
  const files = demoRepoFiles();
  for (let i = Object.keys(files).length; i < total; i++) {
    files[`clusters/homelab/apps/filler/app-${Math.floor(i / 40)}/file-${i}.yaml`] =
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: filler-${i}\ndata:\n  index: "${i}"\n`;
  }
  return files;
}

const flip = (text: string): string =>
  text.includes("role: primary")
    ? text.replace("role: primary", "role: backup")
    : text.replace("role: backup", "role: primary");

function sample(ms: number, processes: number, detail: string): Sample {
  return { ms, calls: processes, graphql: 0, rest: 0, writes: 1, commits: 1, routes: {}, detail };
}

/**
 * Local mode's promote (the adapter: read the manifest, commit it; a checked-out work tree
 * kept in step) next to the seed's way on the same repository: `git clone`, edit, `git
 * commit -a`, `git push`. "calls" are git processes.
 */
export async function benchLocalMode(options: {
  readonly runs: number;
  readonly sizes: readonly number[];
  readonly onProgress?: (line: string) => void;
}): Promise<RowReport[]> {
  const rows: RowReport[] = [];
  for (const size of options.sizes) {
    const root = await mkdtemp(join(tmpdir(), "failover-bench-local-"));
    try {
      const dir = join(root, "repo");
      const files = repoFiles(size);
      await initRepo(dir, files);
      const count = Object.keys(files).length;

      // Ours: warm once (start-up recovery, the long-lived reader), then timed promotes.
      let processes = 0;
      const repo = new LocalGitRepo({ dir, onGitProcess: () => processes++ });
      const promote = async (i: number) => {
        const snap = await repo.read("main", [MANIFEST]);
        const text = snap.files.get(MANIFEST);
        if (typeof text !== "string") throw new Error(`bench: ${MANIFEST} missing`);
        await repo.commit({
          branch: "main",
          expectedHead: snap.head,
          message: `bench: promote ${i}\n\nFailover-Request: bench-${i}`,
          changes: [{ path: MANIFEST, text: flip(text) }],
        });
      };
      await promote(0);
      const ours: Sample[] = [];
      for (let i = 1; i <= options.runs; i++) {
        processes = 0;
        const started = performance.now();
        await promote(i);
        ours.push(sample(performance.now() - started, processes, "applied"));
      }
      repo.close();
      const met = ours.every((s) => PROCESS_GOAL.met(s));
      rows.push({
        id: `local-${count}`,
        operation: `local mode promote, ${count} files (adapter)`,
        note: "LocalGitRepo read + commit, checked-out work tree: cat-file --batch (long-lived), fast-import, update-ref --stdin, update-index --refresh, read-tree -m -u",
        samples: ours,
        goal: PROCESS_GOAL.text,
        goalMet: met,
      });

      // The seed's way, against a bare copy of the same repository.
      const origin = join(root, "origin.git");
      await run("git", ["clone", "-q", "--bare", dir, origin]);
      const seed: Sample[] = [];
      for (let i = 1; i <= options.runs; i++) {
        const work = join(root, `work-${i}`);
        const started = performance.now();
        await run("git", ["clone", "-q", origin, work]);
        const path = join(work, MANIFEST);
        await writeFile(path, flip(await readFile(path, "utf8")));
        await run("git", [
          "-C",
          work,
          "-c",
          "user.name=seed",
          "-c",
          "user.email=seed@localhost",
          "commit",
          "-q",
          "-am",
          `seed: promote ${i}`,
        ]);
        await run("git", ["-C", work, "push", "-q", "origin", "HEAD:main"]);
        seed.push(sample(performance.now() - started, 3, "pushed"));
        await rm(work, { recursive: true, force: true });
      }
      rows.push({
        id: `seed-clone-push-${count}`,
        operation: `seed's clone-and-push, ${count} files`,
        note: "git clone + edit + git commit -a + git push (3 git commands, each several processes)",
        samples: seed,
      });
      options.onProgress?.(`local mode, ${count} files: ${options.runs} run(s) each`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
  return rows;
}
