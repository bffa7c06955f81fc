import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadServicesConfig } from "../../src/config/load-services.js";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { parseFailoverCommit } from "../../src/domain/commit-message.js";
import { BackgroundWork } from "../../src/failover/background.js";
import type { FailoverContext } from "../../src/failover/context.js";
import { FailoverEvents } from "../../src/failover/event-bus.js";
import { eventOutcome, type FailoverEvent } from "../../src/failover/events.js";
import { ManifestLocator } from "../../src/failover/locate-manifest.js";
import { runCommand } from "../../src/failover/run-command.js";
import { LocalGitRepo } from "../../src/repo/local/local-git-repo.js";
import { git } from "../helpers/git.js";
import { demoRepoCopy } from "../helpers/repo-template.js";

const by = { trigger: "cli", requester: "ops" } as const;

describe("one delivery path, announced to listeners", () => {
  let root: string;
  let dir: string;
  let ctx: FailoverContext;
  let work: BackgroundWork;
  let seen: FailoverEvent[];
  let failures: unknown[];
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "pipeline-"));
    dir = join(root, "repo");
    await demoRepoCopy(dir);
    const config = await loadServicesConfig(DEMO_CONFIG);
    failures = [];
    work = new BackgroundWork((error) => failures.push(error));
    const events = new FailoverEvents(work);
    seen = [];
    // A listener that throws and one that never settles until told: neither may touch a result.
    events.on(() => {
      throw new Error("listener down");
    });
    events.on(async (event) => {
      await Promise.resolve();
      seen.push(event);
    });
    ctx = {
      repo: new LocalGitRepo({ dir }),
      branch: async () => "main",
      config: () => config,
      maxAttempts: 5,
      locator: new ManifestLocator(),
      defaultMode: "urgent",
      pullRequests: undefined,
      events,
    };
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("a single failover: planned, then committed with the commit's own request id; a failing listener changes nothing", async () => {
    const { result } = await runCommand(ctx, {
      ...by,
      kind: "failover",
      service: "sonarr",
      action: "promote",
      dryRun: false,
      mode: undefined,
      requestId: "op-1",
    });
    expect(result.outcome).toBe("applied");
    await work.idle();
    expect(failures).toEqual([new Error("listener down"), new Error("listener down")]);
    expect(seen.map((e) => [e.type, eventOutcome(e)])).toEqual([
      ["planned", undefined],
      ["committed", "applied"],
    ]);
    const committed = seen[1];
    if (committed?.type !== "committed") throw new Error("no committed event");
    expect(committed).toMatchObject({
      operation: "op-1",
      action: "promote",
      trigger: "cli",
      requester: "ops",
      branch: "main",
      services: [{ service: "sonarr", from: "primary", to: "backup" }],
      commit: git(dir, "rev-parse", "main").trim(),
      durationMs: expect.any(Number),
    });
    expect(committed.node).toBeUndefined();
    // The operation can be found again in Git after a restart: the commit carries its id.
    const message = git(dir, "log", "-1", "--format=%B", "main");
    expect(message).toContain("Failover-Request: op-1");
    expect(parseFailoverCommit(message)?.moves.map((m) => m.service)).toEqual(["sonarr"]);
  });

  it("a node-wide failover is the same path: ONE committed event naming every service it moved", async () => {
    const { result } = await runCommand(ctx, {
      ...by,
      kind: "node_failover",
      node: "primary",
      action: "promote",
      dryRun: false,
      mode: undefined,
      requestId: "op-2",
    });
    expect(result.outcome).toBe("applied");
    await work.idle();
    const committed = seen.filter((e) => e.type === "committed");
    expect(committed).toHaveLength(1);
    expect(committed[0]).toMatchObject({
      operation: "op-2",
      node: "primary",
      services: [{ service: "radarr" }, { service: "sonarr" }],
    });
  });

  it("no-op, dry run and refusal each end with one event carrying the outcome", async () => {
    const failover = (action: "promote" | "demote", dryRun: boolean, service = "sonarr") =>
      runCommand(ctx, {
        ...by,
        kind: "failover",
        service,
        action,
        dryRun,
        mode: undefined,
        requestId: `op-${action}-${dryRun}-${service}`,
      });
    await failover("demote", true);
    await failover("demote", false);
    await expect(failover("promote", false, "lidarr")).rejects.toMatchObject({ code: "not_found" });
    await work.idle();
    expect(seen.map((e) => [e.type, eventOutcome(e)])).toEqual([
      ["planned", "dry_run"],
      ["planned", undefined],
      ["unchanged", "no_op"],
      ["refused", "not_found"],
    ]);
    expect(seen[3]).toMatchObject({ services: ["lidarr"], dryRun: false });
  });
});

describe("background work", () => {
  it("idle waits for work started by work; drain gives up after its budget; failures are reported", async () => {
    const failures: unknown[] = [];
    const work = new BackgroundWork((error, what) => failures.push([what, String(error)]));
    const order: string[] = [];
    let release: () => void = () => undefined;
    work.run("outer", () => {
      order.push("outer");
      work.run("inner", async () => {
        await Promise.resolve();
        order.push("inner");
        throw new Error("inner failed");
      });
    });
    await work.idle();
    expect(order).toEqual(["outer", "inner"]);
    expect(failures).toEqual([["inner", "Error: inner failed"]]);

    work.run("held", () => new Promise<void>((resolve) => (release = resolve)));
    expect(work.pending).toBe(1);
    expect(await work.drain(0)).toBe(false);
    release();
    expect(await work.drain(10_000)).toBe(true);
    expect(work.pending).toBe(0);
  });
});
