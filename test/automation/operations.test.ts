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
