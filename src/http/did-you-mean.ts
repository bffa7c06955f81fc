/** Lower case, letters and digits only: `DRY-RUN`, `dryRun`, `dry_run[]` and `%20dry-run` all become `dryrun`. */
function fold(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** Levenshtein distance (two rows); the inputs are short names. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The accepted name `name` was most likely meant to be: the same letters and digits in any
 * case and punctuation, else the closest within 2 edits (of the folded names), else a known
 * synonym (`preview` for `dry-run`). `undefined` when nothing is close.
 */
export function didYouMean(
  name: string,
  accepted: readonly string[],
  synonyms: Readonly<Record<string, string>> = {},
): string | undefined {
  const folded = fold(name);
  if (folded === "") return undefined;
  const same = accepted.find((a) => fold(a) === folded);
  if (same !== undefined) return same;
  let best: { name: string; d: number } | undefined;
  for (const candidate of accepted) {
    const d = distance(folded, fold(candidate));
    if (
      d <= Math.min(2, Math.floor(fold(candidate).length / 3)) &&
      (best === undefined || d < best.d)
    )
      best = { name: candidate, d };
  }
  if (best !== undefined) return best.name;
  const synonym = Object.entries(synonyms).find(([word]) => fold(word) === folded)?.[1];
  return synonym !== undefined && accepted.includes(synonym) ? synonym : undefined;
}
