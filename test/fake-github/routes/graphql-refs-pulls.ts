import { gitFailure } from "../../../src/repo/local/git-cli.js";
import { isSafeRevision } from "../git-store.js";
import { type FakePullRequest, gitOf, isAncestor, pullsState } from "../pull-merge.js";
import type { FakeContext } from "../rest.js";

/**
 * GraphQL fields the failover read folds in, so an urgent failover costs one read and one
 * write: `Repository.pullRequests` (open PRs by base / head), `Repository.refs` (branches by
 * prefix), `Ref.compare`, and the `updateRefs` mutation (a compare-and-swap on `beforeOid`).
 * Plain objects: the fake's field resolver reads whatever property a selection names.
 */

interface Page {
  first?: number | null;
}

function page(args: Page): number {
  if (typeof args.first !== "number" || args.first < 0 || args.first > 100) {
    throw new Error("`first` must be given, between 0 and 100");
  }
  return args.first;
}

function connectionOf<T>(all: T[], first: number) {
  const nodes = all.slice(0, first);
  return {
    totalCount: all.length,
    nodes,
    pageInfo: {
      hasNextPage: all.length > nodes.length,
      hasPreviousPage: false,
      startCursor: null,
      endCursor: null,
    },
  };
}

export async function repositoryPullRequests(
  fake: FakeContext,
  args: Page & {
    states?: string[] | null;
    baseRefName?: string | null;
    headRefName?: string | null;
  },
) {
  const first = page(args);
  const { pulls } = pullsState(fake);
  // Open PRs follow their branches (refreshPull's job, here with one git process for all).
  // A git process only when there is an open PR to bring up to date: most queries find none.
  const heads = pulls.some((pr) => pr.state === "open") ? await branchHeads(fake) : new Map();
  for (const pr of pulls) {
    if (pr.state !== "open") continue;
    pr.headSha = heads.get(pr.headRef) ?? pr.headSha;
    pr.baseSha = heads.get(pr.baseRef) ?? pr.baseSha;
  }
  const states = args.states ?? null;
  const matching = pulls.filter((pr) => {
    if (states !== null && !states.includes(stateOf(pr))) return false;
    if (typeof args.baseRefName === "string" && pr.baseRef !== args.baseRefName) return false;
    if (typeof args.headRefName === "string" && pr.headRef !== args.headRefName) return false;
    return true;
  });
  return connectionOf(
    matching.map((pr) => pullNode(fake, pr)),
    first,
  );
}

const stateOf = (pr: FakePullRequest): string => (pr.merged ? "MERGED" : pr.state.toUpperCase());

function pullNode(fake: FakeContext, pr: FakePullRequest) {
  return {
    __typename: "PullRequest",
    id: pr.nodeId,
    number: pr.number,
    title: pr.title,
    url: `${fake.webUrl}/${fake.owner}/${fake.repo}/pull/${pr.number}`,
    headRefName: pr.headRef,
    headRefOid: pr.headSha,
    baseRefName: pr.baseRef,
    isCrossRepository: false,
    state: stateOf(pr),
  };
}

/** Like GitHub, a ref listed by `refs(refPrefix:)` is named relative to that prefix. */
async function branchHeads(fake: FakeContext): Promise<Map<string, string>> {
  const refs = await fake.store.refs("refs/heads/");
  return new Map(refs.map((r) => [r.name.slice("refs/heads/".length), r.oid] as const));
}

function refNode(fake: FakeContext, qualifiedName: string, oid: string, prefix: string) {
  return {
    __typename: "Ref",
    id: `REF_${Buffer.from(qualifiedName).toString("base64url")}`,
    name: qualifiedName.slice(prefix.length),
    prefix,
    target: { __typename: "Commit", id: `C_${oid}`, oid },
    /** The PRs whose head is this branch (newest first), with the head they last had. */
    associatedPullRequests(args: Page & { states?: string[] | null }) {
      const first = page(args);
      const branch = qualifiedName.replace(/^refs\/heads\//, "");
      const states = args.states ?? null;
      const matching = pullsState(fake)
        .pulls.filter((pr) => pr.headRef === branch)
        .filter((pr) => states === null || states.includes(stateOf(pr)))
        .reverse();
      return connectionOf(
        matching.map((pr) => pullNode(fake, pr)),
        first,
      );
    },
    /** This ref as the base, `headRef` as the head, like GitHub's compare base...head. */
    async compare(args: { headRef: string }) {
      const head = await fake.store.resolveRef(args.headRef);
      if (head === undefined) return null;
      // "<only in this ref> <only in headRef>"
      const counts = await fake.store.revList(["--count", "--left-right", `${oid}...${head.oid}`]);
      const [behindBy = 0, aheadBy = 0] = counts.trim().split(/\s+/).map(Number);
      return {
        __typename: "Comparison",
        id: `CMP_${oid}_${head.oid}`,
        aheadBy,
        behindBy,
        status:
          aheadBy === 0 && behindBy === 0
            ? "IDENTICAL"
            : behindBy === 0
              ? "AHEAD"
              : aheadBy === 0
                ? "BEHIND"
                : "DIVERGED",
      };
    },
  };
}

export async function repositoryRefs(fake: FakeContext, args: Page & { refPrefix: string }) {
  const first = page(args);
  if (!args.refPrefix.startsWith("refs/") || !args.refPrefix.endsWith("/")) {
    throw new Error("refPrefix must look like refs/heads/");
  }
  const refs = (await fake.store.refs(args.refPrefix)).map((r) =>
    refNode(fake, r.name, r.oid, args.refPrefix),
  );
  return connectionOf(refs, first);
}

interface UpdateRefsInput {
  repositoryId: string;
  refUpdates: { name: string; afterOid: string; beforeOid?: string | null; force?: boolean }[];
  clientMutationId?: string | null;
}

/** All updates or none: one `git update-ref --stdin` transaction, each checked on beforeOid. */
export async function updateRefs(fake: FakeContext, input: UpdateRefsInput) {
  if (input.repositoryId !== "R_fake") throw new Error("Could not resolve to a Repository");
  const lines = ["start"];
  for (const update of input.refUpdates) {
    if (!update.name.startsWith("refs/heads/") || !isSafeRevision(update.name)) {
      throw new Error(`Invalid ref name ${update.name}`);
    }
    const after = await fake.store.resolveCommitish(update.afterOid.toLowerCase());
    if (after === undefined) throw new Error(`Object ${update.afterOid} does not exist`);
    const current = await fake.store.resolveRef(update.name);
    if (
      update.force !== true &&
      current !== undefined &&
      !(await isAncestor(fake, current.oid, after))
    ) {
      throw new Error(`Update to ${update.name} is not a fast forward`);
    }
    const before = update.beforeOid ?? current?.oid ?? "";
    lines.push(`update ${update.name} ${after} ${before}`);
  }
  lines.push("prepare", "commit", "");
  try {
    await gitOf(fake).run(["update-ref", "--stdin"], { input: lines.join("\n") });
  } catch (error) {
    if (gitFailure(error) !== undefined) {
      throw new Error("A ref was not at its beforeOid: no ref was updated");
    }
    throw error;
  }
  return { clientMutationId: input.clientMutationId ?? null };
}
