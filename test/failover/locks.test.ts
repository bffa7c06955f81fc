import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadServicesConfig } from "../../src/config/load-services.js";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { FailoverError } from "../../src/domain/errors.js";
import type { FailoverContext } from "../../src/failover/context.js";
import { runFailover } from "../../src/failover/failover.js";
import { getHistory } from "../../src/failover/history.js";
import { ManifestLocator } from "../../src/failover/locate-manifest.js";
import { setLock } from "../../src/failover/locks.js";
import { LocalGitRepo } from "../../src/repo/local/local-git-repo.js";
import { commitCount, git } from "../helpers/git.js";
import { demoRepoCopy } from "../helpers/repo-template.js";

describe("locks", () => {
  let root: string;
  let dir: string;
  let ctx: FailoverContext;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "locks-"));
    dir = join(root, "repo");
    await demoRepoCopy(dir);
    const config = await loadServicesConfig(DEMO_CONFIG);
    ctx = {
      repo: new LocalGitRepo({ dir }),
      branch: async () => "main",
      config: () => config,
      maxAttempts: 20,
      locator: new ManifestLocator(),
      defaultMode: "urgent",
      pullRequests: undefined,
    };
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("ten people racing for one lock: exactly one gets it, in one commit; the rest are told who holds it", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        setLock(ctx, { service: "sonarr", lock: true, reason: `job ${i}`, requester: `user${i}` }),
      ),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.flatMap((r) =>
      r.status === "rejected" ? [r.reason as FailoverError] : [],
    );
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(9);
    for (const error of lost) {
      expect(error).toBeInstanceOf(FailoverError);
      expect(error.code).toBe("locked");
      expect(error.message).toMatch(/^sonarr is locked by user\d/);
    }
    expect(commitCount(dir)).toBe(2);
  });

  it("every trigger honours the lock; a dry run still plans, with a warning; unlock restores", async () => {
    await setLock(ctx, { service: "sonarr", lock: true, reason: "NAS", requester: "alice" });
    const request = {
      service: "sonarr",
      action: "promote",
      dryRun: false,
      trigger: "chatops",
      requester: "bob",
    } as const;
    await expect(runFailover(ctx, request)).rejects.toMatchObject({ code: "locked" });
    const dry = await runFailover(ctx, { ...request, dryRun: true });
    expect(dry.plan.warnings).toContainEqual(
      expect.stringMatching(/sonarr is locked by alice since .*: NAS; unlock it first/),
    );
    await setLock(ctx, { service: "sonarr", lock: false, reason: "", requester: "bob" });
    expect((await runFailover(ctx, request)).outcome).toBe("applied");
    expect(
      (await setLock(ctx, { service: "sonarr", lock: false, reason: "", requester: "bob" }))
        .outcome,
    ).toBe("no_op");
  });

  it("a lock file that cannot be read (binary) locks failovers, and unlock rewrites it", async () => {
    await mkdir(join(dir, ".failover", "locks"), { recursive: true });
    await writeFile(join(dir, ".failover", "locks", "sonarr.yaml"), Buffer.from([0, 1, 2, 0]));
    git(dir, "add", ".failover/locks/sonarr.yaml");
    git(
      dir,
      "-c",
      "user.name=a",
      "-c",
      "user.email=a@example.invalid",
      "commit",
      "-qm",
      "binary lock",
    );
    const request = {
      service: "sonarr",
      action: "promote",
      dryRun: false,
      trigger: "http",
      requester: "bob",
    } as const;
    await expect(runFailover(ctx, request)).rejects.toMatchObject({ code: "locked" });
    const unlocked = await setLock(ctx, {
      service: "sonarr",
      lock: false,
      reason: "",
      requester: "bob",
    });
    expect(unlocked.outcome).toBe("unlocked");
    expect((await runFailover(ctx, request)).outcome).toBe("applied");
  });
  it("history's last failover stays the last one after lock and unlock commits", async () => {
    const request = {
      service: "sonarr",
      action: "promote",
      dryRun: false,
      trigger: "http",
      requester: "alice",
    } as const;
    expect((await runFailover(ctx, request)).outcome).toBe("applied");
    for (let i = 0; i < 3; i++) {
      await setLock(ctx, { service: "sonarr", lock: true, reason: `disk ${i}`, requester: "bob" });
      await setLock(ctx, { service: "sonarr", lock: false, reason: "", requester: "bob" });
    }
    // The page's "Last failover" asks for one; the six lock commits carry the service too.
    const [last] = await getHistory(ctx, "sonarr", 1);
    expect(last).toMatchObject({ action: "promote", to: "backup", requester: "alice" });
  });
});
