import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadServicesConfig } from "../../src/config/load-services.js";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { FailoverError, StaleHeadError } from "../../src/domain/errors.js";
import type { FailoverContext } from "../../src/failover/context.js";
import { runFailover } from "../../src/failover/failover.js";
import { ManifestLocator } from "../../src/failover/locate-manifest.js";
import { getStatus } from "../../src/failover/status.js";
import { LocalGitRepo } from "../../src/repo/local/local-git-repo.js";
import type { CommitRequest, GitOpsRepo, Snapshot } from "../../src/repo/port.js";
import { commitCount, fileAt, git } from "../helpers/git.js";
import { demoRepoCopy } from "../helpers/repo-template.js";

const SONARR = "clusters/homelab/apps/media/sonarr/deployment.yaml";

/** A repository where someone else commits right after every read: the head always moves. */
class RacingRepo implements GitOpsRepo {
  readonly description = "racing";
  races = 0;
  constructor(
    private readonly inner: GitOpsRepo,
    private racesLeft: number,
  ) {}
  defaultBranch() {
    return this.inner.defaultBranch();
  }
  listFiles(branch: string, prefix: string) {
    return this.inner.listFiles(branch, prefix);
  }
  probeHead(branch: string) {
    return this.inner.probeHead(branch);
  }
  history(branch: string, options: { path?: string; limit: number }) {
    return this.inner.history(branch, options);
  }
  async read(branch: string, paths: readonly string[]): Promise<Snapshot> {
    const snapshot = await this.inner.read(branch, paths);
    if (this.racesLeft > 0) {
      this.racesLeft--;
      this.races++;
      await this.inner.commit({
        branch,
        expectedHead: snapshot.head,
        message: `unrelated change ${this.races}`,
        changes: [{ path: `notes/${this.races}.txt`, text: "someone else\n" }],
      });
    }
    return snapshot;
  }
  commit(request: CommitRequest) {
    return this.inner.commit(request);
  }
}

describe("runFailover", () => {
  let dir: string;
  let repo: LocalGitRepo;
  const context = async (r: GitOpsRepo, maxAttempts = 3): Promise<FailoverContext> => {
    const config = await loadServicesConfig(DEMO_CONFIG);
    return {
      repo: r,
      branch: async () => "main",
      config: () => config,
      maxAttempts,
      locator: new ManifestLocator(),
      defaultMode: "urgent",
      pullRequests: undefined,
    };
  };
  const promote = {
    service: "sonarr",
    action: "promote",
    dryRun: false,
    trigger: "cli",
    requester: "test",
  } as const;

  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), "run-failover-")), "repo");
    await demoRepoCopy(dir);
    repo = new LocalGitRepo({ dir });
  });
  afterEach(async () => {
    await rm(join(dir, ".."), { recursive: true, force: true });
  });

  it("re-reads and re-plans when the branch moved, then lands one commit", async () => {
    const racing = new RacingRepo(repo, 2);
    const result = await runFailover(await context(racing), promote);
    expect(result.outcome).toBe("applied");
    expect(result.outcome === "applied" && result.attempts).toBe(3);
    // initial + 2 racing commits + the failover, linear
    expect(commitCount(dir)).toBe(4);
    expect(git(dir, "log", "--format=%s", "main").split("\n")[0]).toBe(
      "failover(sonarr): promote to backup",
    );
  });

  it("gives up with a conflict after maxAttempts and writes no failover commit", async () => {
    const racing = new RacingRepo(repo, 10);
    const error = await runFailover(await context(racing, 2), promote).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailoverError);
    expect((error as FailoverError).code).toBe("conflict");
    expect(git(dir, "log", "--format=%s", "main")).not.toContain("failover(");
  });

  it("concurrent identical promotes end as exactly one commit and no-ops", async () => {
    const ctx = await context(repo, 10);
    const results = await Promise.all(Array.from({ length: 8 }, () => runFailover(ctx, promote)));
    const outcomes = results.map((r) => r.outcome).sort();
    expect(outcomes.filter((o) => o === "applied")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "no_op")).toHaveLength(7);
    expect(commitCount(dir)).toBe(2);
  });

  it("repairs a mixed state (node moved, claim not) with one commit", async () => {
    const original = fileAt(dir, "main", SONARR);
    const head = git(dir, "rev-parse", "main").trim();
    await repo.commit({
      branch: "main",
      expectedHead: head,
      message: "half a failover by hand",
      changes: [{ path: SONARR, text: original.replace("role: primary", "role: backup") }],
    });
    const ctx = await context(repo);
    expect((await getStatus(ctx, "sonarr")).state).toBe("mixed");
    const result = await runFailover(ctx, { ...promote, action: "demote" });
    expect(result).toMatchObject({ outcome: "applied", plan: { from: "mixed", to: "primary" } });
    expect(fileAt(dir, "main", SONARR)).toBe(original);
  });

  it("propagates non-conflict errors from the repository without retrying", async () => {
    let commits = 0;
    const failing: GitOpsRepo = {
      ...repo,
      description: "failing",
      defaultBranch: () => repo.defaultBranch(),
      listFiles: (b, p) => repo.listFiles(b, p),
      probeHead: (b, s) => repo.probeHead(b, s),
      history: (b, o) => repo.history(b, o),
      read: (b, p) => repo.read(b, p),
      commit: async () => {
        commits++;
        throw new FailoverError("upstream", "disk on fire");
      },
    };
    await expect(runFailover(await context(failing), promote)).rejects.toThrow("disk on fire");
    expect(commits).toBe(1);
    expect(new StaleHeadError("main", "a", "b").code).toBe("conflict");
  });
});
