import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { failoverCommitMessage } from "../../src/domain/commit-message.js";
import { FailoverError } from "../../src/domain/errors.js";
import { FluxConfirmation } from "../../src/flux/confirmation.js";
import type { KustomizationReport } from "../../src/flux/flux-event.js";
import type { Operation, Phase } from "../../src/operations/operation.js";
import { OperationStore } from "../../src/operations/operation-store.js";
import { makeTempRepo, type TempRepo } from "../helpers/temp-git-repo.js";

const SONARR = "apps/sonarr/deployment.yaml";
const RADARR = "apps/radarr/deployment.yaml";
const BOTH = new Set(["flux-system/radarr", "flux-system/sonarr"]);
const TIMEOUT_MS = 600_000;

/** A node-wide failover commit moving radarr and sonarr, with the pipeline's trailers. */
async function nodeCommit(repo: TempRepo, operation: string, n: number): Promise<string> {
  const head = (await repo.repo.probeHead(repo.branch)).head;
  const message = failoverCommitMessage({
    headline: "failover(node primary): promote to backup",
    services: ["radarr", "sonarr"].map((service) => ({
      service,
      action: "promote" as const,
      from: "primary" as const,
      to: "backup" as const,
    })),
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
    changes: [
      { path: SONARR, text: `node: backup\nn: ${n}\n` },
      { path: RADARR, text: `node: backup\nn: ${n}\n` },
    ],
  });
  return sha;
}

const ok = (name: string, revision: string, namespace: string | undefined = "flux-system") =>
  ({
    namespace,
    name,
    revision,
    outcome: "succeeded",
    message: `${name} reconciled`,
  }) satisfies KustomizationReport;
const broken = (name: string, revision: string): KustomizationReport => ({
  namespace: "flux-system",
  name,
  revision,
  outcome: "failed",
  message: "Health check failed after 5m0s: timeout waiting for: [Deployment/media/radarr]",
});

describe("Flux confirmation: every Kustomization the operation needs, and no guess", () => {
  let repo: TempRepo;
  let store: OperationStore;
  let phases: [string, Phase][];
  const open = () =>
    new OperationStore({
      repo: repo.repo,
      branch: async () => repo.branch,
      confirmTimeoutMs: TIMEOUT_MS,
      onPhase: (op: Operation, phase: Phase) => phases.push([op.id, phase]),
    });
  beforeEach(async () => {
    repo = await makeTempRepo({ [SONARR]: "node: primary\n", [RADARR]: "node: primary\n" });
    phases = [];
    store = open();
  });
  afterEach(async () => {
    vi.useRealTimers();
    store.close();
    await repo.cleanup();
  });

  it("one of two successes confirms nothing; the other's failure fails it", async () => {
    const id = randomUUID();
    const sha = await nodeCommit(repo, id, 1);
    await store.refresh();
    const confirmation = new FluxConfirmation({ store, kustomizationsFor: async () => BOTH });
    expect(await confirmation.report(ok("sonarr", sha))).toEqual([]);
    // The root Kustomization (it applies the app Kustomizations, not the apps) says nothing.
    expect(await confirmation.report(ok("flux-system", sha))).toEqual([]);
    expect(store.get(id)?.status).toBe("committed");
    expect(await confirmation.report(broken("radarr", sha))).toEqual([id]);
    expect(store.get(id)).toMatchObject({
      status: "failed",
      flux: { kustomization: "flux-system/radarr", revision: sha },
    });
    expect(store.get(id)?.phases.at(-1)?.detail).toMatch(
      /^flux-system\/radarr failed at [0-9a-f]{12}: Health check failed/,
    );
  });

  it("both successes (the second for a later commit, by commit status) confirm, naming both", async () => {
    const id = randomUUID();
    const sha = await nodeCommit(repo, id, 1);
    const later = await nodeCommit(repo, randomUUID(), 2);
    await store.refresh();
    const confirmation = new FluxConfirmation({ store, kustomizationsFor: async () => BOTH });
    expect(await confirmation.report(ok("radarr", sha))).toEqual([]);
    // A commit status names no namespace: `kustomization/sonarr/<uid>`.
    expect(await confirmation.report(ok("sonarr", later, undefined))).toContain(id);
    const op = store.get(id);
    expect(op).toMatchObject({
      status: "confirmed",
      flux: { kustomization: "flux-system/radarr, flux-system/sonarr", revision: later },
    });
    expect(op?.phases.at(-1)?.detail).toBe(
      `flux-system/radarr applied ${sha.slice(0, 12)}: radarr reconciled; ` +
        `flux-system/sonarr applied ${later.slice(0, 12)}: sonarr reconciled`,
    );
  });

  it("a success for a revision before the commit does not count", async () => {
    const before = (await repo.repo.probeHead(repo.branch)).head;
    const id = randomUUID();
    const sha = await nodeCommit(repo, id, 1);
    await store.refresh();
    const confirmation = new FluxConfirmation({ store, kustomizationsFor: async () => BOTH });
    expect(await confirmation.report(ok("sonarr", before))).toEqual([]);
    expect(await confirmation.report(ok("radarr", sha))).toEqual([]);
    expect(store.get(id)?.status).toBe("committed");
    expect(await confirmation.report(ok("sonarr", sha))).toEqual([id]);
  });

  it("a failed lookup is not kept: nothing settles on it, the next report asks again and judges every report", async () => {
    const id = randomUUID();
    const sha = await nodeCommit(repo, id, 1);
    await store.refresh();
    let lookups = 0;
    const confirmation = new FluxConfirmation({
      store,
      kustomizationsFor: async () => {
        lookups++;
        if (lookups === 1) throw new FailoverError("upstream", "GitHub answered 502");
        return BOTH;
      },
    });
    // Had the failure meant "any Kustomization confirms", the root one would confirm here.
    expect(await confirmation.report(ok("flux-system", sha))).toEqual([]);
    expect(store.get(id)?.status).toBe("committed");
    expect(await confirmation.report(ok("sonarr", sha))).toEqual([]);
    expect(lookups).toBe(2);
    expect(await confirmation.report(ok("radarr", sha))).toEqual([id]);
    expect(lookups).toBe(2);
    expect(store.get(id)?.flux?.kustomization).toBe("flux-system/radarr, flux-system/sonarr");
  });

  it("a lookup that keeps failing: unconfirmed at the timeout, saying why", async () => {
    // The timeout is the store's timer: faked, so it fires when told, however slow the machine.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    store.close();
    store = open();
    const id = randomUUID();
    const sha = await nodeCommit(repo, id, 1);
    await store.refresh();
    const confirmation = new FluxConfirmation({
      store,
      kustomizationsFor: async () => {
        throw new FailoverError("upstream", "GitHub answered 502");
      },
    });
    expect(await confirmation.report(ok("flux-system", sha))).toEqual([]);
    vi.advanceTimersByTime(TIMEOUT_MS);
    const op = store.get(id);
    expect(op?.status).toBe("unconfirmed");
    expect(phases.filter(([o]) => o === id).map(([, p]) => p)).toEqual([
      "committed",
      "unconfirmed",
    ]);
    expect(op?.phases.at(-1)?.detail).toBe(
      `could not tell which Kustomizations apply radarr, sonarr (upstream: GitHub answered 502; reported: flux-system/flux-system applied ${sha.slice(0, 12)}) within 600 s (FLUX_CONFIRM_TIMEOUT_MS)`,
    );
  });

  it("half confirmed at the timeout: unconfirmed, naming what applied and what did not", async () => {
    // The timeout is the store's timer: faked, so it fires when told, however slow the machine.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    store.close();
    store = open();
    const id = randomUUID();
    const sha = await nodeCommit(repo, id, 1);
    await store.refresh();
    const confirmation = new FluxConfirmation({ store, kustomizationsFor: async () => BOTH });
    expect(await confirmation.report(ok("sonarr", sha))).toEqual([]);
    vi.advanceTimersByTime(TIMEOUT_MS);
    const op = store.get(id);
    expect(op?.status).toBe("unconfirmed");
    expect(phases.filter(([o]) => o === id).map(([, p]) => p)).toEqual([
      "committed",
      "unconfirmed",
    ]);
    expect(op?.phases.at(-1)?.detail).toBe(
      `flux-system/sonarr applied ${sha.slice(0, 12)}, but no success from flux-system/radarr within 600 s (FLUX_CONFIRM_TIMEOUT_MS)`,
    );
  });

  it("no Kustomization in the repository applies them: any one reconciling the commit decides", async () => {
    const id = randomUUID();
    const sha = await nodeCommit(repo, id, 1);
    await store.refresh();
    const confirmation = new FluxConfirmation({
      store,
      kustomizationsFor: async () => new Set<string>(),
    });
    expect(await confirmation.report(ok("apps", sha))).toEqual([id]);
    expect(store.get(id)?.flux?.kustomization).toBe("flux-system/apps");
  });
});
