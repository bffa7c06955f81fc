/**
 * The GraphQL documents the adapter sends. Paths travel as variables (never spliced into the
 * document), one aliased `fN: file(path: $pN)` per file, so one request reads N files and the
 * head oid from the same commit.
 */

const BLOB_FIELDS = "object { __typename oid ... on Blob { text isTruncated isBinary } }";
/** A file wanted by its blob id only (ReadOptions.textless): no text crosses the wire. */
const ID_FIELDS = "object { __typename oid }";

/**
 * How far back a write whose answer was lost is looked for: commits others landed on top of
 * it in the meantime (each a `createCommitOnBranch`, a push, a merge).
 */
export const LANDED_LOOKBACK = 20;

/** The most open PRs and `failover/*` branches one read lists (GitHub's page limit). */
export const FAILOVER_LISTING_LIMIT = 100;

/**
 * With a read for a failover: the open PRs into the branch and the `failover/*` branches (with
 * how many commits each has that the branch lacks), so the superseded-PR lookup and PR mode's
 * branch check cost no call of their own; and the repository's node id and
 * `deleteBranchOnMerge`, which PR mode's branch move and cleanup need (RepositoryFacts), so
 * they cost no `GET /repos` either. Needs $branchName (the short name).
 */
const FAILOVER_FIELDS = [
  "    id",
  "    deleteBranchOnMerge",
  `    failoverPulls: pullRequests(states: [OPEN], baseRefName: $branchName, first: ${FAILOVER_LISTING_LIMIT}) {`,
  "      nodes { id number url headRefName headRefOid baseRefName isCrossRepository }",
  "      pageInfo { hasNextPage }",
  "    }",
  `    failoverRefs: refs(refPrefix: "refs/heads/failover/", first: ${FAILOVER_LISTING_LIMIT}) {`,
  "      nodes {",
  "        name",
  "        target { oid }",
  "        compare(headRef: $branchName) { behindBy }",
  "        associatedPullRequests(states: [MERGED], first: 1, orderBy: { field: UPDATED_AT, direction: DESC }) {",
  "          nodes { headRefOid }",
  "        }",
  "      }",
  "      pageInfo { hasNextPage }",
  "    }",
];

/**
 * Variables: $owner, $name, $qualifiedName and $p0..$p{count-1} (and $branchName with
 * `failover`). `textless`: the indexes of the paths asked for their blob id only.
 */
export function readFilesQuery(
  count: number,
  options: { verify?: boolean; failover?: boolean; textless?: ReadonlySet<number> } = {},
): string {
  const vars = ["$owner: String!", "$name: String!", "$qualifiedName: String!"];
  if (options.failover === true) vars.push("$branchName: String!");
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    vars.push(`$p${i}: String!`);
    const fields = options.textless?.has(i) === true ? ID_FIELDS : BLOB_FIELDS;
    files.push(`          f${i}: file(path: $p${i}) { ${fields} }`);
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
    options.failover === true ? FAILOVER_FIELDS : [],
  );
}

/** `query name(vars) { repository { <repoFields> ref { target { ... on Commit { oid <fields> } } } } }`. */
function onBranchHead(
  name: string,
  vars: readonly string[],
  fields: readonly string[],
  repoFields: readonly string[] = [],
): string {
  return [
    `query ${name}(${vars.join(", ")}) {`,
    "  repository(owner: $owner, name: $name) {",
    ...repoFields,
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

/** A compare-and-swap move of one branch: GitHub refuses unless it is at `beforeOid`. */
export const UPDATE_REFS_MUTATION = [
  "mutation FailoverMoveBranch($input: UpdateRefsInput!) {",
  "  updateRefs(input: $input) { clientMutationId }",
  "}",
].join("\n");

/** The repository's node id (for updateRefs). */
export const REPOSITORY_ID_QUERY =
  "query FailoverRepositoryId($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { id } }";
