import { fromMarkdown } from "mdast-util-from-markdown";

/**
 * Where a ChatOps command may stand, found with a CommonMark parser (micromark), not with
 * line patterns: a line counts only when it is a line of a TOP-LEVEL PARAGRAPH and starts in
 * its plain text. So these never hold a command:
 *
 * - fenced and indented code blocks (4 spaces or a tab), headings, thematic breaks;
 * - block quotes (`> /failover ...` quotes someone else's command);
 * - list items (`- /failover ...`, `1. ...`: checklists and runbooks list commands to run later);
 * - HTML blocks (`<pre>`, `<!-- -->`...) and any paragraph or line inside a raw HTML element
 *   left open before it (`<code>`, `<details>`, `<pre>`...: code-styled or hidden by default);
 * - a line that starts inside inline code, inline HTML, a link or an image spanning lines.
 *
 * The line is returned from its first non-whitespace character to its end, as typed (escapes
 * and entities are not decoded: `&#47;failover` is no command), with inline HTML comments
 * (`<!-- why -->`) cut out, since GitHub does not render them.
 *
 * Emphasis (`*`, `_`) is not parsed: it never hides text, and its resolution is quadratic on
 * hostile input. Callers bound the body's length (see parseCommand): micromark is
 * superlinear on some nestings.
 */
export function paragraphLines(body: string): string[] {
  // micromark drops a leading BOM, which would shift its offsets against ours.
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  const root: MdNode = fromMarkdown(text, { extensions: [{ disable: { null: ["attention"] } }] });
  const html = new HtmlDepth(collectHtml(root));
  const lines: string[] = [];
  for (const block of root.children ?? []) {
    if (block.type !== "paragraph") continue;
    const start = block.position?.start.offset;
    const end = block.position?.end.offset;
    if (start === undefined || end === undefined) continue;
    const inline = block.children ?? [];
    let lineStart = start;
    while (lineStart < end) {
      const lineEnd = Math.min(nextLineEnd(text, lineStart), end);
      const first = firstNonSpace(text, lineStart, lineEnd);
      if (first < lineEnd && startsInText(inline, first) && html.depthAt(first) === 0) {
        lines.push(withoutComments(text, first, lineEnd, inline));
      }
      lineStart = lineEnd + (text.startsWith("\r\n", lineEnd) ? 2 : 1);
    }
  }
  return lines;
}

/** The structural subset of mdast nodes read here. */
interface MdNode {
  readonly type: string;
  readonly value?: string | undefined;
  readonly position?:
    | {
        readonly start: { readonly offset?: number | undefined };
        readonly end: { readonly offset?: number | undefined };
      }
    | undefined;
  readonly children?: readonly MdNode[] | undefined;
}

function offsets(node: MdNode): [number, number] | undefined {
  const start = node.position?.start.offset;
  const end = node.position?.end.offset;
  return start === undefined || end === undefined ? undefined : [start, end];
}

/** The paragraph's child covering `offset` is a text node (not code, HTML, a link...). */
function startsInText(inline: readonly MdNode[], offset: number): boolean {
  for (const child of inline) {
    const range = offsets(child);
    if (range !== undefined && range[0] <= offset && offset < range[1]) {
      return child.type === "text";
    }
  }
  return false;
}

function withoutComments(
  text: string,
  from: number,
  to: number,
  inline: readonly MdNode[],
): string {
  let line = "";
  let at = from;
  for (const child of inline) {
    const range = offsets(child);
    if (range === undefined || child.type !== "html" || !child.value?.startsWith("<!--")) continue;
    if (range[1] <= at || range[0] >= to) continue;
    line += text.slice(at, Math.max(at, range[0]));
    at = Math.min(to, range[1]);
  }
  return line + text.slice(at, to);
}

function nextLineEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return i;
  }
  return text.length;
}

function firstNonSpace(text: string, from: number, to: number): number {
  let i = from;
  while (i < to && /\s/.test(text.charAt(i))) i++;
  return i;
}

/** Every HTML node (blocks and inline), in document order. */
function collectHtml(root: MdNode): { start: number; end: number; value: string }[] {
  const found: { start: number; end: number; value: string }[] = [];
  const stack: MdNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === undefined) break;
    const range = offsets(node);
    if (node.type === "html" && range !== undefined) {
      found.push({ start: range[0], end: range[1], value: node.value ?? "" });
    }
    const children = node.children ?? [];
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (child !== undefined) stack.push(child);
    }
  }
  return found;
}

const VOID_ELEMENTS = new Set([
  "area",
  "base",
  "br",
  "col",
  "embed",
  "hr",
  "img",
  "input",
  "link",
  "meta",
  "source",
  "track",
  "wbr",
]);

/**
 * Which raw HTML elements are open at an offset. CommonMark leaves HTML to the browser, so
 * the elements are tracked with a stack of tag names (comments removed first): a closing tag
 * pops up to its opening tag, a stray one does nothing. Open means "not a command here".
 */
class HtmlDepth {
  readonly #nodes: readonly { start: number; end: number; value: string }[];
  readonly #open: string[] = [];
  #next = 0;

  constructor(nodes: readonly { start: number; end: number; value: string }[]) {
    this.#nodes = nodes;
  }

  /** Offsets must be asked in increasing order. */
  depthAt(offset: number): number {
    for (;;) {
      const node = this.#nodes[this.#next];
      if (node === undefined || node.start > offset) break;
      this.#apply(node.value);
      this.#next++;
    }
    return this.#open.length;
  }

  #apply(html: string): void {
    const tags = removeComments(html).matchAll(/<(\/?)([A-Za-z][A-Za-z0-9-]*)([^<>]*)>/g);
    for (const [, slash, rawName, rest] of tags) {
      const name = (rawName ?? "").toLowerCase();
      if (VOID_ELEMENTS.has(name)) continue;
      if (slash === "/") {
        const at = this.#open.lastIndexOf(name);
        if (at !== -1) this.#open.length = at;
      } else if (!(rest ?? "").endsWith("/")) {
        this.#open.push(name);
      }
    }
  }
}

function removeComments(html: string): string {
  let out = "";
  let from = 0;
  for (;;) {
    const open = html.indexOf("<!--", from);
    if (open === -1) return out + html.slice(from);
    out += html.slice(from, open);
    const close = html.indexOf("-->", open + 4);
    if (close === -1) return out;
    from = close + 3;
  }
}
