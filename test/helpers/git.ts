import { runSync } from "./run-sync.js";

/**
 * Runs git in `dir` for test assertions (the code under test has its own adapter), through the
 * spawn proxy when the worker has one (run-sync.ts).
 */
export function git(dir: string, ...args: string[]): string {
  const identity = ["-c", "user.name=test", "-c", "user.email=test@example.invalid"];
  return runSync("git", ["-C", dir, ...identity, ...args]).toString("utf8");
}

export function commitCount(dir: string, branch = "main"): number {
  return Number(git(dir, "rev-list", "--count", branch).trim());
}

/** The +/- lines of the last commit's diff, without file headers. */
export function lastCommitChangedLines(dir: string, branch = "main"): string[] {
  return git(dir, "show", "--format=", "--unified=0", branch)
    .split("\n")
    .filter((l) => /^[+-]/.test(l) && !/^(\+\+\+|---) /.test(l));
}

export function fileAt(dir: string, ref: string, path: string): string {
  return runSync("git", ["-C", dir, "cat-file", "blob", `${ref}:${path}`]).toString("utf8");
}

/** Changed +/- lines between two commits, per file (edits replace values in place). */
export function changedBetween(dir: string, from: string, to: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let file = "";
  for (const line of git(dir, "diff", "--unified=0", from, to).split("\n")) {
    const m = /^\+\+\+ b\/(.*)$/.exec(line);
    if (m?.[1] !== undefined) file = m[1];
    else if (/^[+-]/.test(line) && !/^(\+\+\+|---) /.test(line))
      out[file] = [...(out[file] ?? []), line];
  }
  return out;
}
