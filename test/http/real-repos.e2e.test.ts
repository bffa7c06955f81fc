import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { composeRuntime } from "../../src/compose.js";
import { parseEnv } from "../../src/config/env.js";
import { initRepo } from "../../src/repo/local/local-git-repo.js";
import { createHttpApp, listen, type RunningServer } from "../../src/server.js";
import { filesUnder } from "../helpers/files.js";
import { changedBetween, commitCount, fileAt, git } from "../helpers/git.js";

const SHAPES = "test/fixtures/gitops-shapes";
const PLEX = "kubernetes/apps/media/plex/app/helmrelease.yaml";
const SONARR_HR = "kubernetes/apps/media/sonarr/app/helmrelease.yaml";
const SONARR_KS = "kubernetes/apps/media/sonarr/ks.yaml";
const JELLYFIN = "raw/jellyfin-affinity.yaml";
const GAMES = "generic/game-servers.yaml";

const CONFIG = `services:
  plex:
    namespace: media
    helmrelease: plex
    volume_name: config
    primary_pvc: pvc-plex
    backup_pvc: pvc-plex-backup
    primary_node_label: primary
    backup_node_label: backup
    path: ${PLEX}
  sonarr:                      # no path: found as */sonarr/app/helmrelease.yaml
    namespace: media
    helmrelease: sonarr
    volume_name: config
    primary_pvc: pvc-sonarr
    backup_pvc: pvc-sonarr-backup
    primary_node_label: primary
    backup_node_label: backup
  jellyfin:
    namespace: media
    deployment: jellyfin
    volume_name: config
    primary_pvc: pvc-jellyfin
    backup_pvc: pvc-jellyfin-backup
    primary_node_label: primary
    backup_node_label: backup
    path: ${JELLYFIN}
    targets:
      - path: ${GAMES}
        document: { kind: GameServer, name: minecraft }
        field: spec.nodeName
        primary: node-a
        backup: node-b
`;

describe("real GitOps shapes through the HTTP API (local Git backend)", () => {
  let root: string;
  let dir: string;
  let server: RunningServer;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "shapes-"));
    dir = join(root, "repo");
    await initRepo(dir, filesUnder(SHAPES, ["README.md"]));
    await writeFile(join(root, "services.yaml"), CONFIG);
    const logger = pino({ level: "silent" });
    const runtime = await composeRuntime(
      parseEnv({ GITOPS_REPO_PATH: dir, FAILOVER_CONFIG: join(root, "services.yaml") }),
      logger,
    );
    server = await listen(createHttpApp(runtime.ctx, logger), 0, "127.0.0.1");
  });
  afterEach(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });
  const call = async (method: string, path: string) => {
    const res = await fetch(`${server.url}${path}`, { method });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("app-template HelmRelease: the placement that takes effect and existingClaim, nothing else", async () => {
    const dry = await call("GET", "/api/failover/plex/promote?dry-run=true");
    expect(dry.status).toBe(200);
    console.info(`dry run of the app-template shape:\n${String(dry.body.diff)}`);
    const head = git(dir, "rev-parse", "main").trim();
    const res = await call("POST", "/api/failover/plex/promote");
    expect(res.body).toMatchObject({ outcome: "applied", from: "primary", to: "backup" });
    expect(changedBetween(dir, head, "main")).toEqual({
      [PLEX]: [
        "-        role: primary   # the node that holds the local copy",
        "+        role: backup   # the node that holds the local copy",
        '-                        values: ["primary"]',
        '+                        values: ["backup"]',
        "-        existingClaim: pvc-plex",
        "+        existingClaim: pvc-plex-backup",
      ],
    });
    await call("POST", "/api/failover/plex/demote");
    expect(fileAt(dir, "main", PLEX)).toBe(fileAt(dir, head, PLEX));
  });

  it("Flux substitution: $NODE and $CLAIM change where they are defined, in ks.yaml", async () => {
    const dry = await call("GET", "/api/failover/sonarr/promote?dry-run=true");
    console.info(`dry run of the Flux substitution shape:\n${String(dry.body.diff)}`);
    expect(dry.body.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/CronJob .* uses claim pvc-sonarr/),
        expect.stringMatching(/ReplicationSource .* uses claim pvc-sonarr/),
      ]),
    );
    const head = git(dir, "rev-parse", "main").trim();
    const res = await call("POST", "/api/failover/sonarr/promote");
    expect(res.body).toMatchObject({ outcome: "applied", paths: [SONARR_HR] });
    expect(changedBetween(dir, head, "main")).toEqual({
      [SONARR_KS]: [
        "-      NODE: primary # failover-api moves this between primary and backup",
        '-      CLAIM: "pvc-sonarr"',
        "+      NODE: backup # failover-api moves this between primary and backup",
        '+      CLAIM: "pvc-sonarr-backup"',
      ],
    });
    expect((await call("GET", "/api/failover/sonarr/status")).body).toMatchObject({
      state: "backup",
    });
  });

  it("node-wide: every service on the node in ONE commit, and back byte for byte", async () => {
    const head = git(dir, "rev-parse", "main").trim();
    const dry = await call("GET", "/api/nodes/primary/promote?dry-run=true");
    expect(dry.body).toMatchObject({ outcome: "dry_run", node: "primary" });
    expect(commitCount(dir)).toBe(1);
    const res = await call("POST", "/api/nodes/primary/promote");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      outcome: "applied",
      services: [
        { service: "jellyfin", result: "changed", from: "primary", to: "backup" },
        { service: "plex", result: "changed", from: "primary", to: "backup" },
        { service: "sonarr", result: "changed", from: "primary", to: "backup" },
      ],
    });
    expect(commitCount(dir)).toBe(2);
    expect(Object.keys(changedBetween(dir, head, "main")).sort()).toEqual(
      [GAMES, PLEX, JELLYFIN, SONARR_KS].sort(),
    );
    const message = git(dir, "log", "-1", "--format=%B", "main");
    expect(message).toMatch(/^failover\(node primary\): promote 3 services to backup/);
    expect(message).toContain("Failover-Service: plex\nFailover-Action: promote");
    expect(message).toContain("Failover-Service: sonarr\nFailover-Action: promote");
    expect((await call("POST", "/api/nodes/primary/promote")).body.outcome).toBe("no_op");
    await call("POST", "/api/nodes/primary/demote");
    expect(changedBetween(dir, head, "main")).toEqual({});
    expect((await call("POST", "/api/nodes/k3s-w9/promote")).status).toBe(404);
  });

  it("locks: refused while locked (423, who and why), and per service in a node-wide failover", async () => {
    const lock = await call("POST", "/api/failover/sonarr/lock?reason=NAS%20maintenance");
    expect(lock.body).toMatchObject({
      outcome: "locked",
      lock: { service: "sonarr", reason: "NAS maintenance" },
    });
    const refused = await call("POST", "/api/failover/sonarr/promote");
    expect(refused.status).toBe(423);
    expect((refused.body.error as { message: string }).message).toMatch(
      /sonarr is locked by http 127\.0\.0\.1 since .*: NAS maintenance/,
    );
    const node = await call("POST", "/api/nodes/primary/promote");
    expect(node.body).toMatchObject({
      outcome: "applied",
      services: [
        { service: "jellyfin", result: "changed" },
        { service: "plex", result: "changed" },
        { service: "sonarr", result: "locked" },
      ],
    });
    expect((await call("POST", "/api/failover/sonarr/unlock")).body.outcome).toBe("unlocked");
    expect((await call("POST", "/api/failover/sonarr/promote")).body.outcome).toBe("applied");
  });

  it("two concurrent lock requests from one requester make one commit", async () => {
    const [a, b] = await Promise.all([
      fetch(`${server.url}/api/failover/plex/lock?reason=a`, { method: "POST" }),
      fetch(`${server.url}/api/failover/plex/lock?reason=b`, {
        method: "POST",
        headers: { "x-forwarded-for": "10.0.0.2" },
      }),
    ]);
    // Both come from 127.0.0.1 here, so the second sees its own lock: a no-op, one commit.
    expect([a.status, b.status]).toEqual([200, 200]);
    const outcomes = [
      (await a.json()) as { outcome: string },
      (await b.json()) as { outcome: string },
    ]
      .map((r) => r.outcome)
      .sort();
    expect(outcomes).toEqual(["locked", "no_op"]);
    expect(commitCount(dir)).toBe(2);
  });

  it("a service with extra targets (a generic field) moves all of them in one commit", async () => {
    const head = git(dir, "rev-parse", "main").trim();
    const res = await call("POST", "/api/failover/jellyfin/promote");
    expect(res.body).toMatchObject({ outcome: "applied", paths: [JELLYFIN, GAMES] });
    expect(changedBetween(dir, head, "main")).toEqual({
      [GAMES]: [
        "-  nodeName: node-a # pinned: the world lives on this node's disk",
        "+  nodeName: node-b # pinned: the world lives on this node's disk",
      ],
      [JELLYFIN]: [
        "-                  - {key: role, operator: In, values: [primary]}",
        "+                  - {key: role, operator: In, values: [backup]}",
        "-            claimName: pvc-jellyfin",
        "+            claimName: pvc-jellyfin-backup",
      ],
    });
    expect(commitCount(dir)).toBe(2);
  });

  it("history: past failovers from the repository, newest first", async () => {
    await call("POST", "/api/failover/plex/promote");
    await call("POST", "/api/nodes/primary/demote");
    const { body } = await call("GET", "/api/failover/plex/history");
    expect((body.history as Record<string, unknown>[])[1]).not.toHaveProperty("node");
    expect(body.history).toEqual([
      expect.objectContaining({
        action: "demote",
        from: "backup",
        to: "primary",
        node: "primary",
        trigger: "http",
      }),
      expect.objectContaining({
        action: "promote",
        from: "primary",
        to: "backup",
        trigger: "http",
      }),
    ]);
  });
});
