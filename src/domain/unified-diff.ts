import { createTwoFilesPatch } from "diff";

/** A `git diff`-style unified diff of one file, for dry runs, PR bodies and replies. */
export function unifiedDiff(path: string, before: string, after: string): string {
  if (before === after) return "";
  return createTwoFilesPatch(`a/${path}`, `b/${path}`, before, after, undefined, undefined, {
    context: 3,
  })
    .split("\n")
    .slice(1) // drop jsdiff's "====" banner line
    .join("\n");
}
