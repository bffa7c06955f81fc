import { createHmac, randomUUID } from "node:crypto";
import { pino } from "pino";
import { Probot } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { failoverCommitMessage } from "../../src/domain/commit-message.js";
import type { FailoverEvent } from "../../src/failover/events.js";
import { FluxConfirmation } from "../../src/flux/confirmation.js";
import { fluxStatusHandler } from "../../src/flux/status-webhook.js";
import type { Phase } from "../../src/operations/operation.js";
import { OperationStore } from "../../src/operations/operation-store.js";
import type { GitOpsRepo } from "../../src/repo/port.js";
import { makeTempRepo, type TempRepo } from "../helpers/temp-git-repo.js";
import { examplePayload } from "../helpers/webhook-payloads.js";
import { eventually } from "../ops/ops-server.js";

const FILE = "apps/sonarr/deployment.yaml";

/** A real failover commit (the trailers the pipeline writes) on a real local repository. */
async function failoverCommit(repo: TempRepo, operation: string, text: string): Promise<string> {
  const head = (await repo.repo.probeHead(repo.branch)).head;
  const message = failoverCommitMessage({
    headline: "failover(sonarr): promote to backup",
    services: [{ service: "sonarr", action: "promote", from: "primary", to: "backup" }],
    trigger: "alertmanager",
    requester: "alertmanager KubeNodeNotReady key=0123456789abcdef01234567",
    requestId: operation,
    node: "primary",
    changes: [],
  });
  const { sha } = await repo.repo.commit({
    branch: repo.branch,
    expectedHead: head,
    message,
    changes: [{ path: FILE, text }],
  });
  return sha;
}

describe("operations: built from events and from Git, settled by Flux", () => {
  let repo: TempRepo;
  let store: OperationStore;
  let phases: [string, Phase][];
  let timeoutMs = 600_000;
  beforeEach(async () => {
    repo = await makeTempRepo({ [FILE]: "node: primary\n" });
    phases = [];
    store = new OperationStore({
      repo: repo.repo,
      branch: async () => repo.branch,
      confirmTimeoutMs: timeoutMs,
      onPhase: (op, phase) => phases.push([op.id, phase]),
    });
  });
  afterEach(async () => {
    store.close();
    await repo.cleanup();
    timeoutMs = 600_000;
  });

  it("the pipeline's events give phases with timestamps; a later commit's reconcile confirms", async () => {
    const id = randomUUID();
    const sha = await failoverCommit(repo, id, "node: backup\n");
    const facts = {
      operation: id,
      action: "promote" as const,
      trigger: "http" as const,
      requester: "token home-assistant",
      branch: "main",
    };
    const moves = [
      { service: "sonarr", from: "primary" as const, to: "backup" as const, files: [FILE] },
    ];
    const events: FailoverEvent[] = [
      {
        ...facts,
        type: "planned",
        at: new Date(Date.now() - 3000).toISOString(),
        services: moves,
        dryRun: false,
      },
      { ...facts, type: "committed", at: new Date().toISOString(), services: moves, commit: sha },
    ];
    for (const e of events) await store.listener(e);
    expect(store.get(id)).toMatchObject({ status: "committed", services: ["sonarr"] });
    // Flux reconciles a later commit of the branch: it includes the failover.
    const later = await failoverCommit(repo, randomUUID(), "node: backup\nx: 1\n");
    const confirmation = new FluxConfirmation({ store });
    const settled = await confirmation.report({
      namespace: "flux-system",
      name: "apps",
      revision: later,
      outcome: "succeeded",
      message: "Reconciliation finished",
    });
    expect(settled).toContain(id);
    const op = store.get(id);
    expect(op?.phases.map((p) => p.phase)).toEqual(["requested", "committed", "confirmed"]);
    expect(op?.rtoSeconds).toBeGreaterThanOrEqual(3);
    expect(phases.filter(([o]) => o === id).map(([, p]) => p)).toEqual([
      "requested",
      "committed",
      "confirmed",
    ]);
  });

  it("a reconcile of an older revision confirms nothing; an error event for the commit fails it", async () => {
    const before = (await repo.repo.probeHead(repo.branch)).head;
    const id = randomUUID();
    const sha = await failoverCommit(repo, id, "node: backup\n");
    await store.refresh();
    const confirmation = new FluxConfirmation({ store });
    const report = { namespace: "flux-system", name: "apps", message: "x" };
    expect(
      await confirmation.report({ ...report, revision: before, outcome: "succeeded" }),
    ).toEqual([]);
    expect(store.get(id)?.status).toBe("committed");
    expect(
      await confirmation.report({
        ...report,
        revision: sha,
        outcome: "failed",
        message: "health check failed",
      }),
    ).toEqual([id]);
    expect(store.get(id)).toMatchObject({
      status: "failed",
      flux: { message: "health check failed" },
    });
  });

  it("only the Kustomization that builds the services confirms, when it is known", async () => {
    const id = randomUUID();
    const sha = await failoverCommit(repo, id, "node: backup\n");
    await store.refresh();
    const confirmation = new FluxConfirmation({
      store,
      kustomizationsFor: async () => new Set(["media/sonarr"]),
    });
    const report = { revision: sha, outcome: "succeeded" as const, message: "ok" };
    expect(
      await confirmation.report({ ...report, namespace: "flux-system", name: "cluster-apps" }),
    ).toEqual([]);
    expect(await confirmation.report({ ...report, namespace: "media", name: "sonarr" })).toEqual([
      id,
    ]);
  });

  it("no word from Flux within the timeout: unconfirmed", async () => {
    store.close();
    store = new OperationStore({
      repo: repo.repo,
      branch: async () => repo.branch,
      confirmTimeoutMs: 200,
    });
    const id = randomUUID();
    await failoverCommit(repo, id, "node: backup\n");
    await store.refresh();
    const op = await eventually(
      async () => (store.get(id)?.status === "unconfirmed" ? store.get(id) : undefined),
      "the operation to time out",
    );
    expect(op.phases.at(-1)?.detail).toContain("FLUX_CONFIRM_TIMEOUT_MS");
  });

  it("a signed GitHub status webhook from Flux's github Provider confirms through Probot", async () => {
    const id = randomUUID();
    const sha = await failoverCommit(repo, id, "node: backup\n");
    await store.refresh();
    const secret = "webhook-secret";
    const probot = new Probot({ githubToken: "ghs_test", secret, log: pino({ level: "silent" }) });
    await probot.load((app) => {
      app.on("status", fluxStatusHandler(new FluxConfirmation({ store })));
    });
    const payload = {
      ...examplePayload("status"),
      sha,
      state: "success",
      context: "kustomization/apps/7d0cd1e1",
      description: "ReconciliationSucceeded",
    };
    const body = JSON.stringify(payload);
    await probot.webhooks.verifyAndReceive({
      id: randomUUID(),
      name: "status",
      payload: body,
      signature: `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    });
    expect(store.get(id)).toMatchObject({
      status: "confirmed",
      flux: { kustomization: "flux-system/apps" },
    });
    // A CI status on the same commit says nothing about Flux.
    await expect(
      probot.webhooks.verifyAndReceive({
        id: randomUUID(),
        name: "status",
        payload: body,
        signature: "sha256=0000000000000000000000000000000000000000000000000000000000000000",
      }),
    ).rejects.toThrow();
  });
});

/** The real local repository, counting its history reads (each one is a GitHub request there). */
function countingRepo(inner: GitOpsRepo): { repo: GitOpsRepo; reads: () => number } {
  let reads = 0;
  const repo = new Proxy(inner, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (key === "history") reads++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { repo, reads: () => reads };
}

describe("operations: looking up unknown ids reads Git at most once per interval", () => {
  let repo: TempRepo;
  let store: OperationStore;
  let reads: () => number;
  let clock: number;
  beforeEach(async () => {
    repo = await makeTempRepo({ [FILE]: "node: primary\n" });
    const counting = countingRepo(repo.repo);
    reads = counting.reads;
    clock = Date.parse("2026-01-01T00:00:00Z");
    store = new OperationStore({
      repo: counting.repo,
      branch: async () => repo.branch,
      confirmTimeoutMs: 600_000,
      now: () => clock,
      lookupIntervalMs: 10_000,
    });
  });
  afterEach(async () => {
    store.close();
    await repo.cleanup();
  });

  it("a burst of random ids costs one read, shared; more misses in the window cost none", async () => {
    const found = await Promise.all(Array.from({ length: 50 }, () => store.find(randomUUID())));
    expect(found.every((o) => o === undefined)).toBe(true);
    expect(reads()).toBe(1);
    for (let i = 0; i < 50; i++) expect(await store.find(randomUUID())).toBeUndefined();
    clock += 9_999;
    expect(await store.find(randomUUID())).toBeUndefined();
    expect(reads()).toBe(1);
    // The window is over: the next unknown id reads again, once.
    clock += 1;
    expect(await store.find(randomUUID())).toBeUndefined();
    expect(reads()).toBe(2);
  });

  it("an id committed elsewhere is found by the shared read, or after the window", async () => {
    const early = randomUUID();
    await failoverCommit(repo, early, "node: backup\n");
    const both = await Promise.all([store.find(early), store.find(early), store.find("other")]);
    expect(both.map((o) => o?.id)).toEqual([early, early, undefined]);
    expect(reads()).toBe(1);
    // Another replica commits now: a miss until the window ends, then found with one read.
    const late = randomUUID();
    await failoverCommit(repo, late, "node: primary\n");
    expect(await store.find(late)).toBeUndefined();
    clock += 10_000;
    expect((await store.find(late))?.status).toBe("committed");
    expect(reads()).toBe(2);
    // Known ids answer from memory.
    expect((await store.find(early))?.id).toBe(early);
    expect(reads()).toBe(2);
  });

  it("a commit dated after this process's clock waits the confirmation timeout, not past it", async () => {
    // The clock here is 2026-01-01 and the commit is dated now: eleven months ahead, as a
    // commit from a host whose clock is ahead would be. Its confirmation timer was the
    // difference, beyond setTimeout's 2^31-1 ms, which node replaces with 1 ms: the
    // operation was settled `unconfirmed` at once, before any Flux event could come.
    const id = randomUUID();
    await failoverCommit(repo, id, "node: backup\n");
    expect((await store.find(id))?.status).toBe("committed");
    // Timers fire in order of their expiry: a 1 ms one fires before this, 600 s one after.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(store.pending().map((o) => o.id)).toEqual([id]);
  });

  it("this process's own operations (the pipeline's events) need no read", async () => {
    const id = randomUUID();
    await store.listener({
      type: "planned",
      operation: id,
      action: "promote",
      trigger: "http",
      requester: "token home-assistant",
      branch: "main",
      at: new Date(clock).toISOString(),
      services: [{ service: "sonarr", from: "primary", to: "backup", files: [FILE] }],
      dryRun: false,
    });
    expect((await store.find(id))?.status).toBe("requested");
    expect(reads()).toBe(0);
  });

  it("a failed read is shared, counts for the window, and the next one after it may succeed", async () => {
    let fail = true;
    const failing = new Proxy(repo.repo, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) =>
          key === "history" && fail
            ? Promise.reject(new Error("GitHub is down"))
            : (value as (...a: unknown[]) => unknown).apply(target, args);
      },
    });
    const counting = countingRepo(failing);
    const flaky = new OperationStore({
      repo: counting.repo,
      branch: async () => repo.branch,
      confirmTimeoutMs: 600_000,
      now: () => clock,
      lookupIntervalMs: 10_000,
    });
    try {
      const id = randomUUID();
      await failoverCommit(repo, id, "node: backup\n");
      const results = await Promise.allSettled([flaky.find(id), flaky.find(id)]);
      expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
      expect(await flaky.find(id)).toBeUndefined();
      expect(counting.reads()).toBe(1);
      fail = false;
      clock += 10_000;
      expect((await flaky.find(id))?.id).toBe(id);
      expect(counting.reads()).toBe(2);
    } finally {
      flaky.close();
    }
  });
});
