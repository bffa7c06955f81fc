import { Octokit } from "@octokit/rest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseServicesConfig } from "../../src/config/services-config.js";
import type { FailoverContext } from "../../src/failover/context.js";
import { runFailover } from "../../src/failover/failover.js";
import { ManifestLocator } from "../../src/failover/locate-manifest.js";
import { getStatus } from "../../src/failover/status.js";
import { GitHubRepo } from "../../src/repo/github/github-repo.js";
import { type FakeGitHub, type LoggedRequest, startFakeGitHub } from "../fake-github/index.js";
import { demoRepoFiles } from "../helpers/files.js";

/**
 * What a failover reads on GitHub, counted at the fake: the files it edits in one GraphQL
 * read; the neighbouring YAML (claim-user warnings only) read whole by dry runs and otherwise
 * known by blob id; no tree listing for services with a configured `path`.
 */
const silentLog = { debug() {}, info() {}, warn() {}, error() {} };
const RADARR_DIR = "clusters/homelab/apps/media/radarr";
const RADARR = `${RADARR_DIR}/deployment.yaml`;
const VOLSYNC = `${RADARR_DIR}/volsync.yaml`;
const CONFIG = `services:
  radarr:
    namespace: media
    deployment: radarr
    volume_name: radarr-data
    primary_pvc: pvc-radarr
    backup_pvc: pvc-radarr-backup
    primary_node_label: primary
    backup_node_label: backup
    path: ${RADARR}
  sonarr:
    namespace: media
    deployment: sonarr
    volume_name: sonarr-data
    primary_pvc: pvc-sonarr
    backup_pvc: pvc-sonarr-backup
    primary_node_label: primary
    backup_node_label: backup
`;
const REPLICATION_WARNING = /volsync\.yaml: ReplicationSource radarr-primary uses claim pvc-radarr/;

let fake: FakeGitHub;
let ctx: FailoverContext;

beforeEach(async () => {
  fake = await startFakeGitHub({ files: demoRepoFiles() });
  const octokit = new Octokit({ baseUrl: fake.url, auth: "ghs_x", log: silentLog });
  const config = parseServicesConfig(CONFIG, "services.yaml");
  ctx = {
    repo: new GitHubRepo({ octokit, owner: fake.owner, repo: fake.repoName }),
    branch: async () => "main",
    config: () => config,
    maxAttempts: 3,
    locator: new ManifestLocator(),
    defaultMode: "urgent",
    pullRequests: undefined,
  };
  fake.resetLog();
});

afterEach(async () => {
  await fake.close();
});

const treeListings = () => fake.requests.filter((r) => r.path.includes("/git/trees/"));
const label = (r: LoggedRequest) =>
  r.path === "/graphql" ? `graphql ${(r.rootFields ?? []).join(",")}` : `${r.method} ${r.path}`;
/** The read's GraphQL document and variables: which paths it asked for, with or without text. */
function readOf(r: LoggedRequest | undefined): { withText: string[]; idOnly: string[] } {
  const body = r?.body as { query: string; variables: Record<string, unknown> };
  const withText: string[] = [];
  const idOnly: string[] = [];
  for (const [name, value] of Object.entries(body.variables)) {
    const match = new RegExp(`f\\d+: file\\(path: \\$${name}\\) \\{ ([^\\n]*) \\}`).exec(
      body.query,
    );
    if (match === null) continue;
    (match[1]?.includes("text") ? withText : idOnly).push(String(value));
  }
  return { withText, idOnly };
}

const radarr = (action: "promote" | "demote", dryRun = false) =>
  runFailover(ctx, { service: "radarr", action, dryRun, trigger: "cli", requester: "test" });

describe("failover reads on GitHub", () => {
  it("a path: service: read + commit, no tree listing, no neighbour read", async () => {
    const result = await radarr("promote");
    expect(result.outcome).toBe("applied");
    expect(fake.requests.map(label)).toEqual([
      "graphql repository",
      "graphql createCommitOnBranch",
    ]);
    const read = readOf(fake.requests[0]);
    expect(read.withText.sort()).toEqual(
      [RADARR, ".failover/locks/radarr.yaml", ".failover/originals/radarr.yaml"].sort(),
    );
    expect(read.idOnly).toEqual([]);
    // Status needs no neighbour either.
    fake.resetLog();
    expect((await getStatus(ctx, "radarr")).state).toBe("backup");
    expect(treeListings()).toEqual([]);
    expect(readOf(fake.requests[0]).withText).not.toContain(VOLSYNC);
  });

  it("a dry run reads the neighbours in the targets' folder; the real failover after it knows them by blob id", async () => {
    const dry = await radarr("promote", true);
    expect(dry.outcome).toBe("dry_run");
    expect(dry.plan.warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(REPLICATION_WARNING)]),
    );
    // One listing (the folder's files; GitHub sends the tree, the adapter keeps the prefix).
    expect(treeListings()).toHaveLength(1);
    expect(readOf(fake.graphqlRequests[0]).withText).toContain(VOLSYNC);

    fake.resetLog();
    const real = await radarr("promote");
    expect(real.outcome).toBe("applied");
    expect(fake.requests.map(label)).toEqual([
      "graphql repository",
      "graphql createCommitOnBranch",
    ]);
    const read = readOf(fake.requests[0]);
    expect(read.withText).not.toContain(VOLSYNC);
    expect(read.idOnly).toContain(VOLSYNC);
    // The same warning, from the claim uses parsed at the dry run (the blob id is unchanged).
    expect(real.plan.warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(REPLICATION_WARNING)]),
    );
  });

  it("a neighbour changed since it was parsed: no stale warning, and its text is read the next time", async () => {
    await radarr("promote", true);
    const head = await fake.head();
    const volsync = demoRepoFiles()[VOLSYNC] ?? "";
    await ctx.repo.commit({
      branch: "main",
      expectedHead: head,
      message: "volsync: rename",
      changes: [{ path: VOLSYNC, text: volsync.replace("radarr-primary", "radarr-source") }],
    });
    fake.resetLog();
    const real = await radarr("promote");
    expect(real.outcome).toBe("applied");
    expect(real.plan.warnings.join("\n")).not.toMatch(/radarr-primary/);
    expect(readOf(fake.requests[0]).idOnly).toContain(VOLSYNC);
    fake.resetLog();
    const back = await radarr("demote");
    expect(back.plan.warnings.join("\n")).toMatch(
      /ReplicationSource radarr-source uses claim pvc-radarr/,
    );
    expect(readOf(fake.requests[0]).withText).toContain(VOLSYNC);
    expect(treeListings()).toEqual([]);
  });

  it("a truncated tree: the dry run lists the targets' folder directory by directory", async () => {
    fake.inject({
      match: { path: /\/git\/trees\/main$/ },
      respond: { status: 200, body: { sha: "0".repeat(40), url: "x", tree: [], truncated: true } },
    });
    const dry = await radarr("promote", true);
    expect(dry.outcome).toBe("dry_run");
    expect(dry.plan.warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(REPLICATION_WARNING)]),
    );
    // Only the directories on the way to the folder, never the whole tree one by one.
    const listed = treeListings().length;
    expect(listed).toBeGreaterThan(2);
    expect(listed).toBeLessThanOrEqual(RADARR_DIR.split("/").length + 2);
  });

  it("a searched service lists the tree once per process, then reads once per failover", async () => {
    const sonarr = (action: "promote" | "demote") =>
      runFailover(ctx, {
        service: "sonarr",
        action,
        dryRun: false,
        trigger: "cli",
        requester: "t",
      });
    expect((await sonarr("promote")).outcome).toBe("applied");
    expect(treeListings()).toHaveLength(1);
    fake.resetLog();
    const back = await sonarr("demote");
    expect(back.outcome).toBe("applied");
    expect(fake.requests.map(label)).toEqual([
      "graphql repository",
      "graphql createCommitOnBranch",
    ]);
    // Its neighbours come from the tree at hand: parsed at the first failover, by id since.
    expect(readOf(fake.requests[0]).idOnly).toContain(
      "clusters/homelab/apps/media/sonarr/volsync.yaml",
    );
    expect(back.plan.warnings.join("\n")).toMatch(
      /ReplicationSource sonarr-primary uses claim pvc-sonarr/,
    );
  });
});
