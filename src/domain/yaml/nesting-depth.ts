import {
  Composer,
  type CST,
  type Document,
  type DocumentOptions,
  Lexer,
  type ParseOptions,
  Parser,
} from "yaml";

type Token = CST.Token;

/**
 * Collections nested deeper than this are refused before they are composed. Kubernetes
 * manifests, Helm values included, nest a dozen levels or so; 100 leaves room for any real one.
 *
 * Why a limit before the composer: the composer recurses once per level. Thousands of levels
 * (a 20 KB file of `[` is enough) run it out of stack, and V8 does not always turn that into
 * a RangeError. Measured on Node 20 with yaml 2.9: the second such file parsed in a process
 * killed it with "FATAL ERROR: RegExpCompiler Allocation failed - process out of memory",
 * which no try/catch sees. The CST parser that runs first keeps its own stack, not the call
 * stack, so its tokens can be measured safely.
 */
export const MAX_NESTING_DEPTH = 100;

type Options = ParseOptions & DocumentOptions;

/** Every document of `text`, or how deep it nests when that is past MAX_NESTING_DEPTH. */
export function composeWithinDepth(
  text: string,
  options: Options,
): { readonly docs: Document.Parsed[] } | { readonly depth: number } {
  const lexemes = lexWithinFlowDepth(text);
  if (typeof lexemes === "number") return { depth: lexemes };
  // What Parser.parse does, on lexemes already lexed (yaml's documented user-lexer loop).
  const parser = new Parser();
  const tokens: Token[] = [];
  for (const lexeme of lexemes) for (const token of parser.next(lexeme)) tokens.push(token);
  for (const token of parser.end()) tokens.push(token);
  const depth = deepestNesting(tokens);
  if (depth > MAX_NESTING_DEPTH) return { depth };
  // What parseAllDocuments does without a line counter (prettyErrors: false), on tokens
  // already parsed.
  return { docs: Array.from(new Composer(options).compose(tokens)) as Document.Parsed[] };
}

/**
 * The lexemes of `text`, or the flow depth past MAX_NESTING_DEPTH where lexing stopped. Flow
 * collections are what a short file nests deeply (`[[[[`: a level a byte); the lexer sees them
 * as the lexemes `[`, `{`, `]` and `}` exactly (a bracket in a scalar or comment is part of a
 * longer lexeme), so their balance is the flow depth, a lower bound of the nesting
 * deepestNesting measures. Stopping here, at the first level too deep, spares the CST parser:
 * it took about a second per 200 KB of `[` before refusing.
 */
function lexWithinFlowDepth(text: string): string[] | number {
  const lexemes: string[] = [];
  let flow = 0;
  for (const lexeme of new Lexer().lex(text)) {
    if (lexeme === "[" || lexeme === "{") {
      flow += 1;
      if (flow > MAX_NESTING_DEPTH) return flow;
    } else if ((lexeme === "]" || lexeme === "}") && flow > 0) {
      flow -= 1;
    }
    lexemes.push(lexeme);
  }
  return lexemes;
}

/** The deepest collection in the tokens, walked with a list of its own: no recursion. */
function deepestNesting(tokens: readonly Token[]): number {
  let deepest = 0;
  const todo: [Token | undefined, number][] = tokens.map((t) => [t, 0]);
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    const [token, depth] = next;
    if (token === undefined) continue;
    if (token.type === "document") {
      todo.push([token.value, depth]);
    } else if (
      token.type === "block-map" ||
      token.type === "block-seq" ||
      token.type === "flow-collection"
    ) {
      if (depth + 1 > deepest) deepest = depth + 1;
      if (deepest > MAX_NESTING_DEPTH) return deepest;
      for (const item of token.items) {
        todo.push(["key" in item ? (item.key ?? undefined) : undefined, depth + 1]);
        todo.push([item.value, depth + 1]);
      }
    }
  }
  return deepest;
}
