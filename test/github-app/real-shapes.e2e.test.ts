import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { issuesState } from "../fake-github/routes/issues.js";
import { filesUnder } from "../helpers/files.js";
import { commitCount, git } from "../helpers/git.js";
import { type AppServer, startAppServer } from "../helpers/github-app-server.js";
import { examplePayload, issueComment, onGitOpsRepo } from "../helpers/webhook-payloads.js";
import { deliver } from "./deliver.js";

const CONFIG = `services:
  plex:
    namespace: media
    helmrelease: plex
    volume_name: config
    primary_pvc: pvc-plex
    backup_pvc: pvc-plex-backup
    primary_node_label: primary
    backup_node_label: backup
  sonarr:
    namespace: media
    helmrelease: sonarr
    volume_name: config
    primary_pvc: pvc-sonarr
    backup_pvc: pvc-sonarr-backup
    primary_node_label: primary
    backup_node_label: backup
`;

/** The HelmRelease and Flux-substitution shapes through the GitHub App's triggers. */
describe("real shapes in GitHub mode", () => {
  let app: AppServer;
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "shapes-config-"));
    await writeFile(join(dir, "services.yaml"), CONFIG);
    app = await startAppServer({
      roles: { alice: "admin" },
      files: filesUnder("test/fixtures/gitops-shapes", ["README.md"]),
      env: { FAILOVER_CONFIG: join(dir, "services.yaml") },
    });
  });
  afterEach(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });
  const changedFiles = () =>
    git(app.fake.dir, "show", "--name-only", "--format=", "main").trim().split("\n");

  it("ChatOps moves a Flux-substituted HelmRelease by editing ks.yaml, in one commit", async () => {
    await deliver(app, "issue_comment", issueComment("/failover sonarr promote", "alice"));
    expect(commitCount(app.fake.dir)).toBe(2);
    expect(changedFiles()).toEqual(["kubernetes/apps/media/sonarr/ks.yaml"]);
    const [reply] = issuesState({ fake: app.fake.context }).comments.map((c) => c.body);
    expect(reply).toMatch(/sonarr moved from primary to backup/);
    expect(reply).toMatch(/CronJob sonarr-export uses claim pvc-sonarr/);
  });

  it("workflow_dispatch moves an app-template HelmRelease; a node-wide dry run over HTTP covers both", async () => {
    const dispatch = {
      ...onGitOpsRepo(examplePayload("workflow_dispatch"), "alice"),
      workflow: ".github/workflows/failover.yml",
      inputs: { service: "plex", action: "promote", dry_run: "false", mode: "default" },
    };
    await deliver(app, "workflow_dispatch", dispatch);
    expect(changedFiles()).toEqual(["kubernetes/apps/media/plex/app/helmrelease.yaml"]);
    const res = await fetch(`${app.url}/api/nodes/primary/promote?dry-run=true`);
    const body = (await res.json()) as { services: { service: string; result: string }[] };
    expect(body.services).toEqual([
      expect.objectContaining({ service: "plex", result: "no_op" }),
      expect.objectContaining({ service: "sonarr", result: "changed" }),
    ]);
  });
});
