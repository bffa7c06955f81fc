import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadServicesConfig } from "../../src/config/load-services.js";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import type { FailoverContext, Recheck } from "../../src/failover/context.js";
import { ManifestLocator } from "../../src/failover/locate-manifest.js";
import { runNodeFailover } from "../../src/failover/node-failover.js";
import { LocalGitRepo } from "../../src/repo/local/local-git-repo.js";
import type { GitOpsRepo, Snapshot } from "../../src/repo/port.js";
import { commitCount, fileAt, git } from "../helpers/git.js";
import { demoRepoCopy } from "../helpers/repo-template.js";

const SONARR = "clusters/homelab/apps/media/sonarr/deployment.yaml";
const RADARR = "clusters/homelab/apps/media/radarr/deployment.yaml";

/** Someone else commits right after the first read: the first write loses its compare-and-swap. */
function racingOnce(inner: GitOpsRepo): GitOpsRepo {
  let raced = false;
  return {
    description: "racing once",
    defaultBranch: () => inner.defaultBranch(),
    listFiles: (branch, prefix) => inner.listFiles(branch, prefix),
    probeHead: (branch, seen) => inner.probeHead(branch, seen),
    history: (branch, options) => inner.history(branch, options),
    commit: (request) => inner.commit(request),
    read: async (branch, paths, options): Promise<Snapshot> => {
      const snapshot = await inner.read(branch, paths, options);
      if (!raced && paths.includes(SONARR)) {
        raced = true;
        await inner.commit({
          branch,
          expectedHead: snapshot.head,
          message: "someone else",
          changes: [{ path: "notes/other.txt", text: "someone else\n" }],
        });
      }
      return snapshot;
    },
  };
}

/**
 * The pipeline's recheck hook (ctx.recheck), which automation's guards use to hold at the
 * commit: asked with the head of every read, before planning, and obeyed.
 */
describe("deliver's recheck hook", () => {
  let dir: string;
  let repo: LocalGitRepo;
  const context = async (r: GitOpsRepo, recheck: Recheck): Promise<FailoverContext> => {
    const config = await loadServicesConfig(DEMO_CONFIG);
    return {
      repo: r,
      branch: async () => "main",
      config: () => config,
      maxAttempts: 3,
      locator: new ManifestLocator(),
      defaultMode: "urgent",
      pullRequests: undefined,
      recheck,
    };
  };
  const promote = {
    node: "primary",
    action: "promote",
    dryRun: false,
    trigger: "alertmanager",
    requester: "test",
  } as const;
  const side = (path: string) => /role: (\S+)/.exec(fileAt(dir, "main", path))?.[1];

  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), "recheck-hook-")), "repo");
    await demoRepoCopy(dir);
    repo = new LocalGitRepo({ dir });
  });
  afterEach(async () => {
    repo.close();
    await rm(join(dir, ".."), { recursive: true, force: true });
  });

  it("is asked again on the new head after a lost compare-and-swap; the commit lands on the head it last allowed", async () => {
    const heads: string[] = [];
    const ctx = await context(racingOnce(repo), async (head) => {
      heads.push(head);
      return undefined;
    });
    const result = await runNodeFailover(ctx, promote);
    expect(result.outcome).toBe("applied");
    expect(heads).toHaveLength(2);
    expect(heads[0]).not.toBe(heads[1]);
    expect(git(dir, "rev-parse", "main~1").trim()).toBe(heads[1]);
  });

  it("services it holds back are left out of the commit; the others move", async () => {
    const ctx = await context(repo, async () => new Set(["radarr"]));
    const result = await runNodeFailover(ctx, promote);
    expect(result.outcome).toBe("applied");
    expect(result.services.map((s) => s.service)).toEqual(["radarr"]);
    expect(side(RADARR)).toBe("backup");
    expect(side(SONARR)).toBe("primary");
    expect(git(dir, "log", "-1", "--format=%B", "main")).not.toContain("Failover-Service: sonarr");
  });

  it("holding every service back writes nothing", async () => {
    const before = commitCount(dir);
    const ctx = await context(repo, async () => new Set());
    const result = await runNodeFailover(ctx, promote);
    expect(result.outcome).toBe("no_op");
    expect(result.services).toEqual([]);
    expect(commitCount(dir)).toBe(before);
  });
});
