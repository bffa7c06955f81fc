import { describe, expect, it } from "vitest";
import { plainOctokit } from "../bench/approaches.js";
import { type BenchReport, type RowReport, runBench } from "../bench/bench.js";
import { benchChatOps } from "../bench/chatops.js";
import { benchLocalMode } from "../bench/local-mode.js";
import { formatReport, jsonReport } from "../bench/report.js";
import { startFakeGitHub } from "./fake-github/index.js";

// A smoke test of `npm run bench`: every operation once, no added latency, no write pacing.
// It asserts what each approach costs in GitHub API calls and commits, never how long it took.
const GENERATED = 5;

describe("npm run bench", () => {
  let report: BenchReport;
  const row = (id: string): RowReport => {
    const found = report.rows.find((r) => r.id === id);
    if (found === undefined) throw new Error(`no bench row ${id}`);
    return found;
  };
  const only = (id: string) => {
    const r = row(id);
    expect(r.error).toBeUndefined();
    expect(r.samples).toHaveLength(1);
    const [sample] = r.samples;
    if (sample === undefined) throw new Error(`no sample for ${id}`);
    return sample;
  };

  it("runs every operation once", async () => {
    report = await runBench({ latencyMs: 0, runs: 1, services: GENERATED, writeIntervalMs: 0 });
    expect(report.services).toBe(GENERATED + 2);
    expect(report.rows.map((r) => r.id)).toEqual([
      "urgent",
      "urgent-http",
      "pr-http",
      "status-sequential",
      "status-concurrent",
      "status-all-cold",
      "status-all-warm",
      "naive-1",
      `batched-${GENERATED}`,
      `naive-${GENERATED}`,
    ]);
    expect(report.node).toBe(process.version);
    expect(report.peakRssBytes).toBeGreaterThan(0);
  }, 300_000);

  // The failover itself: 1 GraphQL read + 1 createCommitOnBranch. In GitHub mode runFailover
  // then looks for an open failover PR the change superseded (one REST lookup, no PR here).
  const SUPERSEDED_PR_LOOKUP = "GET /repos/{owner}/{repo}/pulls";
  const withoutLookup = (routes: Readonly<Record<string, number>>) =>
    Object.fromEntries(Object.entries(routes).filter(([label]) => label !== SUPERSEDED_PR_LOOKUP));

  it("urgent mode costs one GraphQL read and one GraphQL write: one commit", () => {
    const urgent = only("urgent");
    expect(urgent).toMatchObject({ graphql: 2, writes: 1, commits: 1 });
    expect(withoutLookup(urgent.routes)).toEqual({
      "GraphQL query repository": 1,
      "GraphQL mutation createCommitOnBranch": 1,
    });
    expect(urgent.routes[SUPERSEDED_PR_LOOKUP] ?? 0).toBeLessThanOrEqual(1);
    expect(urgent.detail).toBe("applied");
  });

  it("through the HTTP API the failover is the same 2 calls; the rest is the audit", () => {
    const http = only("urgent-http");
    expect(http).toMatchObject({ graphql: 2, commits: 1 });
    const routes = withoutLookup(http.routes);
    expect(routes["GraphQL query repository"]).toBe(1);
    expect(routes["GraphQL mutation createCommitOnBranch"]).toBe(1);
    const others = Object.keys(routes).filter(
      (label) => !label.startsWith("GraphQL") && !label.includes("/deployments"),
    );
    expect(others).toEqual([]);
  });

  it("PR mode runs when the fake serves PR routes, and reports n/a otherwise", () => {
    const pr = row("pr-http");
    if (pr.unavailable !== undefined) {
      expect(pr.samples).toEqual([]);
      expect(formatReport(report)).toContain("n/a (PR routes missing)");
      return;
    }
    const sample = only("pr-http");
    expect(sample.commits).toBeGreaterThanOrEqual(1);
  });

  it("status: one read per service cold, one read for all; no read while the head has not moved", () => {
    const n = report.services;
    expect(only("status-sequential")).toMatchObject({ calls: 2 * n, graphql: n, writes: 0 });
    expect(only("status-concurrent")).toMatchObject({ calls: n, graphql: 0, writes: 0 });
    expect(only("status-concurrent").routes).toEqual({
      "GET /repos/{owner}/{repo}/git/ref/{ref}": n,
    });
    expect(only("status-all-cold")).toMatchObject({ calls: 2, graphql: 1, writes: 0 });
    expect(only("status-all-warm")).toMatchObject({ calls: 1, graphql: 0, writes: 0 });
  });

  it("the naive Contents API costs 2 calls and 1 commit per file", () => {
    expect(only("naive-1")).toMatchObject({ calls: 2, graphql: 0, rest: 2, writes: 1, commits: 1 });
    expect(only(`naive-${GENERATED}`)).toMatchObject({
      calls: 2 * GENERATED,
      rest: 2 * GENERATED,
      writes: GENERATED,
      commits: GENERATED,
    });
    expect(only(`naive-${GENERATED}`).routes).toEqual({
      "GET /repos/{owner}/{repo}/contents/{path}": GENERATED,
      "PUT /repos/{owner}/{repo}/contents/{path}": GENERATED,
    });
  });

  it("the batched way is 2 calls and 1 commit whatever the number of files", () => {
    expect(only(`batched-${GENERATED}`)).toMatchObject({
      calls: 2,
      graphql: 2,
      rest: 0,
      writes: 1,
      commits: 1,
    });
  });

  it("judges call-count goals, never times: met where the status rows need one read", () => {
    expect(row("status-all-cold")).toMatchObject({ goal: "GraphQL reads <= 1", goalMet: true });
    expect(row("status-all-warm").goalMet).toBe(true);
    expect(row("urgent").goal).toBe("calls <= 2");
    expect(formatReport(report)).toContain("call-count goal");
  });

  it("prints a table and a JSON document", () => {
    const table = formatReport(report);
    expect(table).toContain("| operation");
    expect(table).toContain(process.version);
    const json = JSON.parse(jsonReport(report)) as { rows: { id: string }[] };
    expect(json.rows.map((r) => r.id)).toContain("urgent");
  });
});

describe("npm run bench: local mode", () => {
  it("a promote is at most 4 git processes, next to the seed's clone-and-push", async () => {
    const rows = await benchLocalMode({ runs: 2, sizes: [30] });
    expect(rows.map((r) => r.id)).toEqual(["local-30", "seed-clone-push-30"]);
    const [ours, seed] = rows;
    expect(ours?.samples).toHaveLength(2);
    expect(ours?.samples.every((s) => s.calls <= 4 && s.commits === 1)).toBe(true);
    expect(ours).toMatchObject({ goal: "git processes <= 4", goalMet: true });
    expect(seed?.samples).toHaveLength(2);
    expect(seed?.goal).toBeUndefined();
  }, 120_000);
});

describe("npm run bench: ChatOps", () => {
  it("a /failover comment is answered before any GitHub call; the commit and the reply follow", async () => {
    const rows = await benchChatOps({ latencyMs: 0, runs: 2, writeIntervalMs: 0 });
    expect(rows.map((r) => r.id)).toEqual(["chatops-ack", "chatops-commit", "chatops-reply"]);
    for (const row of rows) {
      expect(row.error).toBeUndefined();
      expect(row.samples).toHaveLength(2);
    }
    const [ack, commit, reply] = rows;
    expect(ack).toMatchObject({ goal: "no GitHub call before the answer", goalMet: true });
    expect(ack?.samples.every((s) => s.calls === 0 && s.detail === "HTTP 200")).toBe(true);
    // By the commit: the 👀 claim, the sender's permission, then the failover's 2 GraphQL calls.
    for (const s of commit?.samples ?? []) {
      expect(s).toMatchObject({ graphql: 2, commits: 1 });
      expect(s.routes).toMatchObject({
        "GraphQL query repository": 1,
        "GraphQL mutation createCommitOnBranch": 1,
        "GET /repos/{owner}/{repo}/collaborators/alice/permission": 1,
      });
    }
    for (const s of reply?.samples ?? []) {
      expect(s.routes["POST /repos/{owner}/{repo}/issues/{n}/comments"]).toBe(1);
      expect(s.commits).toBe(1);
    }
  }, 120_000);
});

describe("fake GitHub Contents API (the naive approach's routes)", () => {
  it("reads, writes with a compare-and-swap on the blob sha, and answers 409 on a stale sha", async () => {
    const fake = await startFakeGitHub({ files: { "apps/a.yaml": "a: 1\n" } });
    try {
      const octokit = plainOctokit(fake.url);
      const where = { owner: fake.owner, repo: fake.repoName };
      const read = async (path: string) =>
        (await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", { ...where, path }))
          .data as unknown as { type: string; sha: string; content: string; encoding: string };
      const file = await read("apps/a.yaml");
      expect(file).toMatchObject({ type: "file", encoding: "base64", path: "apps/a.yaml" });
      expect(Buffer.from(file.content, "base64").toString("utf8")).toBe("a: 1\n");
      await expect(read("apps/missing.yaml")).rejects.toMatchObject({ status: 404 });

      const head = await fake.head();
      const put = (sha: string | undefined, text: string) =>
        octokit.request("PUT /repos/{owner}/{repo}/contents/{path}", {
          ...where,
          path: "apps/a.yaml",
          message: "update a",
          content: Buffer.from(text).toString("base64"),
          branch: fake.branch,
          ...(sha === undefined ? {} : { sha }),
        });
      const written = await put(file.sha, "a: 2\n");
      expect(written.status).toBe(200);
      const data = written.data as unknown as { content: { sha: string }; commit: { sha: string } };
      expect(data.commit.sha).toBe(await fake.head());
      expect((await fake.store.commit(data.commit.sha)).parents).toEqual([head]);
      expect((await read("apps/a.yaml")).sha).toBe(data.content.sha);

      // The old blob sha no longer matches: GitHub's documented 409, and nothing is written.
      await expect(put(file.sha, "a: 3\n")).rejects.toMatchObject({ status: 409 });
      await expect(put(undefined, "a: 3\n")).rejects.toMatchObject({ status: 422 });
      expect(await fake.head()).toBe(data.commit.sha);
      const snapshot = await fake.repo.read(fake.branch, ["apps/a.yaml"]);
      expect(snapshot.files.get("apps/a.yaml")).toBe("a: 2\n");
    } finally {
      await fake.close();
    }
  });
});
