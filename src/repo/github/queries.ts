/**
 * The GraphQL documents the adapter sends. Paths travel as variables (never spliced into the
 * document), one aliased `fN: file(path: $pN)` per file, so one request reads N files and the
 * head oid from the same commit.
 */

const BLOB_FIELDS = "object { __typename ... on Blob { text isTruncated isBinary } }";

/**
 * How far back a write whose answer was lost is looked for: commits others landed on top of
 * it in the meantime (each a `createCommitOnBranch`, a push, a merge).
 */
export const LANDED_LOOKBACK = 20;

/** Variables: $owner, $name, $qualifiedName and $p0..$p{count-1}. */
export function readFilesQuery(count: number, options: { verify?: boolean } = {}): string {
  const vars = ["$owner: String!", "$name: String!", "$qualifiedName: String!"];
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    vars.push(`$p${i}: String!`);
    files.push(`          f${i}: file(path: $p${i}) { ${BLOB_FIELDS} }`);
  }
  const extra =
    options.verify === true
      ? [
          "          url",
          "          message",
          "          parents(first: 2) { nodes { oid } }",
          `          history(first: ${LANDED_LOOKBACK}) { nodes { oid url message parents(first: 2) { nodes { oid } } } }`,
        ]
      : [];
  return onBranchHead(
    options.verify === true ? "FailoverVerifyCommit" : "FailoverReadFiles",
    vars,
    [...extra, ...files],
  );
}

/** `query name(vars) { repository { ref { target { ... on Commit { oid <fields> } } } } }`. */
function onBranchHead(name: string, vars: readonly string[], fields: readonly string[]): string {
  return [
    `query ${name}(${vars.join(", ")}) {`,
    "  repository(owner: $owner, name: $name) {",
    "    ref(qualifiedName: $qualifiedName) {",
    "      target {",
    "        __typename",
    "        ... on Commit {",
    "          oid",
    ...fields,
    "        }",
    "      }",
    "    }",
    "  }",
    "}",
  ].join("\n");
}

export const CREATE_COMMIT_MUTATION = [
  "mutation FailoverCreateCommit($input: CreateCommitOnBranchInput!) {",
  "  createCommitOnBranch(input: $input) {",
  "    commit { oid url }",
  "  }",
  "}",
].join("\n");

const HISTORY_FIELDS = "nodes { oid message committedDate url author { name user { login } } }";

/**
 * Variables: $owner, $name, $qualifiedName, $first and $p0..$p{count-1}: the history of each
 * path (`hN: history(first: $first, path: $pN)`), or of the branch with no path, in one request.
 */
export function historyQuery(count: number): string {
  const vars = ["$owner: String!", "$name: String!", "$qualifiedName: String!", "$first: Int!"];
  const walks: string[] = [];
  for (let i = 0; i < count; i++) {
    vars.push(`$p${i}: String!`);
    walks.push(`          h${i}: history(first: $first, path: $p${i}) { ${HISTORY_FIELDS} }`);
  }
  if (count === 0) walks.push(`          h0: history(first: $first) { ${HISTORY_FIELDS} }`);
  return onBranchHead("FailoverHistory", vars, walks);
}
