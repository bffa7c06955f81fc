import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadServicesConfig } from "../../src/config/load-services.js";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { ManifestLocator } from "../../src/failover/locate-manifest.js";
import { LocalGitRepo } from "../../src/repo/local/local-git-repo.js";
import type { GitOpsRepo } from "../../src/repo/port.js";
import { createHttpApp, listen, type RunningServer } from "../../src/server.js";
import { git } from "../helpers/git.js";
import { demoRepoCopy } from "../helpers/repo-template.js";

describe("a branch that keeps moving", () => {
  let server: RunningServer | undefined;
  let root: string | undefined;
  afterEach(async () => {
    await server?.close();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it("answers 409 conflict after the bounded retries, with no failover commit", async () => {
    root = await mkdtemp(join(tmpdir(), "conflict-"));
    const dir = join(root, "repo");
    await demoRepoCopy(dir);
    const inner = new LocalGitRepo({ dir });
    let n = 0;
    // Someone else commits between every read and our write.
    const racing: GitOpsRepo = {
      description: inner.description,
      defaultBranch: () => inner.defaultBranch(),
      listFiles: (b, p) => inner.listFiles(b, p),
      probeHead: (b, s) => inner.probeHead(b, s),
      history: (b, o) => inner.history(b, o),
      commit: (r) => inner.commit(r),
      read: async (branch, paths) => {
        const snapshot = await inner.read(branch, paths);
        n++;
        await inner.commit({
          branch,
          expectedHead: snapshot.head,
          message: `other ${n}`,
          changes: [{ path: `other/${n}.txt`, text: "x\n" }],
        });
        return snapshot;
      },
    };
    const config = await loadServicesConfig(DEMO_CONFIG);
    const ctx = {
      repo: racing,
      branch: async () => "main",
      config: () => config,
      maxAttempts: 3,
      locator: new ManifestLocator(),
      defaultMode: "urgent" as const,
      pullRequests: undefined,
    };
    server = await listen(createHttpApp(ctx, pino({ level: "silent" })), 0, "127.0.0.1");
    const res = await fetch(`${server.url}/api/failover/sonarr/promote`, { method: "POST" });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("conflict");
    expect(n).toBe(3);
    expect(git(dir, "log", "--format=%s", "main")).not.toContain("failover(");
  });
});
