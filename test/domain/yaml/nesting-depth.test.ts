import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { composeWithinDepth } from "../../../src/domain/yaml/nesting-depth.js";
import { filesUnder } from "../../helpers/files.js";

/** What the documents say, with their errors and where they stand in the text. */
const summary = (
  docs: readonly { toString(): string; errors: { code: string }[]; range: unknown }[],
) => docs.map((d) => ({ text: String(d), errors: d.errors.map((e) => e.code), range: d.range }));

describe("composeWithinDepth", () => {
  it("composes what yaml's parseAllDocuments composes, for every YAML file of the fixtures", () => {
    const files = Object.entries({
      ...filesUnder("test/fixtures", []),
      ...filesUnder("examples", []),
    }).filter(([path]) => /\.ya?ml$/.test(path));
    expect(files.length).toBeGreaterThan(50);
    for (const [path, text] of files) {
      const composed = composeWithinDepth(text, { prettyErrors: false });
      if (!("docs" in composed)) throw new Error(`${path}: refused at depth ${composed.depth}`);
      const parsed = parseAllDocuments(text, { prettyErrors: false });
      const expected = Array.isArray(parsed) ? parsed : [parsed];
      expect(summary(composed.docs), path).toEqual(summary(expected));
    }
  });

  it("brackets in scalars and comments are not nesting; unbalanced closers do not hide openers", () => {
    const brackets = `a: "${"[".repeat(300)}"\nb: '${"{".repeat(300)}'\n# ${"[".repeat(300)}\nc: |\n  ${"[".repeat(300)}\nd: x${"[".repeat(300)}\n`;
    expect("docs" in composeWithinDepth(brackets, {})).toBe(true);
    const closers = `${"]".repeat(50)}\n${"[".repeat(101)}`;
    expect(composeWithinDepth(closers, {})).toEqual({ depth: 101 });
  });
});
