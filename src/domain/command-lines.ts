/**
 * The lines of a comment a reader sees as plain text: lines inside fenced code blocks
 * (``` or ~~~), quoted lines (`>`) and HTML comments (`<!-- -->`, which GitHub does not
 * render, so a command hidden there must not run) are left out. CRLF and CR are line ends.
 *
 * Linear in the body's length: no backtracking regular expressions, one pass.
 */
export function* plainLines(body: string): Generator<string, void, undefined> {
  let fence: { readonly char: "`" | "~"; readonly length: number } | undefined;
  let inComment = false;
  let start = 0;
  while (start <= body.length) {
    const end = nextLineEnd(body, start);
    const line = body.slice(start, end);
    start = end + (body.startsWith("\r\n", end) ? 2 : 1);

    if (fence !== undefined) {
      if (closesFence(line, fence)) fence = undefined;
      continue;
    }
    if (inComment) {
      const close = line.indexOf("-->");
      if (close === -1) continue;
      // The closing line belongs to the HTML block: only its comment state matters.
      inComment = stripComments(line.slice(close + 3)).open;
      continue;
    }
    const opened = opensFence(line);
    if (opened !== undefined) {
      fence = opened;
      continue;
    }
    const stripped = stripComments(line);
    inComment = stripped.open;
    if (/^\s*>/.test(stripped.text)) continue;
    yield stripped.text;
  }
}

function nextLineEnd(body: string, from: number): number {
  for (let i = from; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 10 || c === 13) return i;
  }
  return body.length;
}

const FENCE_OPEN = /^\s*(`{3,}|~{3,})(.*)$/;

function opensFence(line: string): { char: "`" | "~"; length: number } | undefined {
  const match = FENCE_OPEN.exec(line);
  const marker = match?.[1];
  if (marker === undefined) return undefined;
  const char = marker[0] === "`" ? "`" : "~";
  // CommonMark: a backtick fence's info string cannot contain a backtick (that is inline code).
  if (char === "`" && (match?.[2] ?? "").includes("`")) return undefined;
  return { char, length: marker.length };
}

function closesFence(line: string, fence: { char: "`" | "~"; length: number }): boolean {
  const trimmed = line.trim();
  if (trimmed.length < fence.length) return false;
  for (const c of trimmed) if (c !== fence.char) return false;
  return true;
}

/** Removes complete `<!-- -->` comments; `open` when one starts and does not end on this line. */
function stripComments(line: string): { text: string; open: boolean } {
  let text = "";
  let from = 0;
  for (;;) {
    const open = line.indexOf("<!--", from);
    if (open === -1) return { text: text + line.slice(from), open: false };
    text += line.slice(from, open);
    const close = line.indexOf("-->", open + 4);
    if (close === -1) return { text, open: true };
    from = close + 3;
  }
}
