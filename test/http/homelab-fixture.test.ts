import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { composeRuntime } from "../../src/compose.js";
import { parseEnv } from "../../src/config/env.js";
import { initRepo } from "../../src/repo/local/local-git-repo.js";
import { createHttpApp, listen, type RunningServer } from "../../src/server.js";
import { filesUnder } from "../helpers/files.js";
import { fileAt, lastCommitChangedLines } from "../helpers/git.js";
import { hasSharedFixture, SHARED_FIXTURE, SHARED_NOTE } from "../helpers/shared-fixture.js";

/** The real GitOps repository the seed was written for, read in place from ../shared. */
const FIXTURE = SHARED_FIXTURE;
const SONARR = "clusters/homelab/apps/media/sonarr/deployment.yaml";

describe.skipIf(!hasSharedFixture)(
  `the homelab-gitops repository, unchanged, with its own ConfigMap${SHARED_NOTE}`,
  () => {
    let root: string;
    let repoDir: string;
    let server: RunningServer;

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), "homelab-"));
      repoDir = join(root, "repo");
      await initRepo(repoDir, filesUnder(FIXTURE));
      const configMap = parse(
        readFileSync(
          join(FIXTURE, "clusters/homelab/operations/failover-api/configmap.yaml"),
          "utf8",
        ),
      ) as { data: Record<string, string> };
      const config = join(root, "services.yaml");
      await writeFile(config, configMap.data["services.yaml"] ?? "");
      const logger = pino({ level: "silent" });
      const runtime = await composeRuntime(
        parseEnv({ GITOPS_REPO_PATH: repoDir, FAILOVER_CONFIG: config }),
        logger,
      );
      server = await listen(createHttpApp(runtime.ctx, logger), 0, "127.0.0.1");
    });
    afterAll(async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    });

    it("finds sonarr's manifest the way the seed did and reports it on primary", async () => {
      const body = (await (
        await fetch(`${server.url}/api/failover/sonarr/status`)
      ).json()) as Record<string, unknown>;
      expect(body).toMatchObject({ state: "primary", paths: [SONARR] });
      // The fixture's Deployment has no strategy (RollingUpdate): the new pod starts on the
      // backup claim while the old one is stuck on the dead node, so nothing to warn about.
      expect(body.warnings).toEqual([]);
    });

    it("promote changes exactly the nodeSelector and claimName lines; demote restores every byte", async () => {
      const original = fileAt(repoDir, "main", SONARR);
      const promote = await fetch(`${server.url}/api/failover/sonarr/promote`, { method: "POST" });
      expect(promote.status).toBe(200);
      expect(lastCommitChangedLines(repoDir)).toEqual([
        "-        role: primary",
        "+        role: backup",
        "-            claimName: pvc-sonarr",
        "+            claimName: pvc-sonarr-backup",
      ]);
      const demote = await fetch(`${server.url}/api/failover/sonarr/demote`, { method: "POST" });
      expect(demote.status).toBe(200);
      expect(fileAt(repoDir, "main", SONARR)).toBe(original);
    });
  },
);
