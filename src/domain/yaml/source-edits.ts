/** Replaces [start, end) spans of the original string; everything else stays byte-identical. */
export interface Replacement {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

export function applyReplacements(source: string, replacements: readonly Replacement[]): string {
  const ordered = [...replacements].sort((a, b) => b.start - a.start);
  let out = source;
  let limit = Number.POSITIVE_INFINITY;
  for (const r of ordered) {
    if (r.start < 0 || r.end < r.start || r.end > limit) {
      throw new RangeError(`overlapping or invalid replacement [${r.start}, ${r.end})`);
    }
    out = out.slice(0, r.start) + r.text + out.slice(r.end);
    limit = r.start;
  }
  return out;
}

/** 1-based line number of a string offset. */
export function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = source.indexOf("\n"); i !== -1 && i < offset; i = source.indexOf("\n", i + 1)) {
    line++;
  }
  return line;
}
