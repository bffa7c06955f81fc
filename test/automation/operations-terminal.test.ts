import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FailoverEvent, OperationFacts } from "../../src/failover/events.js";
import { FINAL, type Phase } from "../../src/operations/operation.js";
import { OperationStore } from "../../src/operations/operation-store.js";
import type { GitOpsRepo } from "../../src/repo/port.js";

/** The events alone decide here: a repository read would be a bug. */
const noRepo = new Proxy({} as GitOpsRepo, {
  get: () => () => Promise.reject(new Error("no repository read expected")),
});

const moves = [
  {
    service: "radarr",
    from: "primary" as const,
    to: "primary" as const,
    files: ["apps/radarr/deployment.yaml"],
  },
];

function facts(operation: string): OperationFacts {
  return {
    operation,
    action: "demote",
    trigger: "http",
    requester: "token home-assistant",
    branch: "main",
    at: new Date().toISOString(),
  };
}

describe("operations: every command ends in a final phase, dry runs in none", () => {
  let store: OperationStore;
  let phases: [string, Phase][];
  beforeEach(() => {
    phases = [];
    store = new OperationStore({
      repo: noRepo,
      branch: async () => "main",
      confirmTimeoutMs: 600_000,
      onPhase: (op, phase) => phases.push([op.id, phase]),
    });
  });
  afterEach(() => store.close());

  it("planned then unchanged (nothing to change): final `no_op`, not `requested` for good", async () => {
    const id = randomUUID();
    await store.listener({ ...facts(id), type: "planned", services: moves, dryRun: false });
    expect(store.get(id)?.status).toBe("requested");
    await store.listener({ ...facts(id), type: "unchanged", services: moves });
    const op = store.get(id);
    expect(op).toMatchObject({ status: "no_op", services: ["radarr"] });
    expect(op?.phases.map((p) => [p.phase, p.detail])).toEqual([
      ["requested", undefined],
      ["no_op", "nothing to change: radarr already on primary"],
    ]);
    expect(FINAL.has("no_op")).toBe(true);
    expect(store.pending()).toEqual([]);
    expect(phases).toEqual([
      [id, "requested"],
      [id, "no_op"],
    ]);
    // Final: a late Flux word changes nothing.
    expect(store.settle(id, "confirmed", "x")).toBeUndefined();
  });

  it.each([
    ["refused", "locked"],
    ["failed", "conflict"],
  ] as const)("planned then %s: final, with the code and message", async (type, code) => {
    const id = randomUUID();
    await store.listener({ ...facts(id), type: "planned", services: moves, dryRun: false });
    await store.listener({
      ...facts(id),
      type,
      services: ["radarr"],
      code,
      message: "why",
      dryRun: false,
    });
    expect(store.get(id)).toMatchObject({ status: type });
    expect(store.get(id)?.phases.at(-1)).toMatchObject({ phase: type, detail: `${code}: why` });
    expect(FINAL.has(type)).toBe(true);
  });

  it.each(["refused", "failed", "unchanged"] as const)(
    "committed, then a second attempt under the same id %s: still committed",
    async (type) => {
      const id = randomUUID();
      const promote = [
        {
          service: "radarr",
          from: "primary" as const,
          to: "backup" as const,
          files: ["apps/radarr/deployment.yaml"],
        },
      ];
      await store.listener({ ...facts(id), type: "planned", services: promote, dryRun: false });
      await store.listener({
        ...facts(id),
        type: "committed",
        services: promote,
        commit: "a".repeat(40),
      });
      const later: FailoverEvent =
        type === "unchanged"
          ? { ...facts(id), type, services: promote }
          : {
              ...facts(id),
              type,
              services: ["radarr"],
              code: "conflict",
              message: "handled already",
              dryRun: false,
            };
      await store.listener(later);
      expect(store.get(id)).toMatchObject({ status: "committed", commit: { sha: "a".repeat(40) } });
      expect(store.get(id)?.phases.map((p) => p.phase)).toEqual(["requested", "committed"]);
    },
  );

  it("a dry run is no operation: planned, refused or failed, nothing is kept or told", async () => {
    const id = randomUUID();
    const dry: FailoverEvent[] = [
      { ...facts(id), type: "planned", services: moves, dryRun: true },
      {
        ...facts(id),
        type: "refused",
        services: ["nosuch"],
        code: "not_found",
        message: "no service nosuch",
        dryRun: true,
      },
      {
        ...facts(randomUUID()),
        type: "failed",
        services: ["radarr"],
        code: "upstream",
        message: "GitHub is down",
        dryRun: true,
      },
    ];
    for (const e of dry) await store.listener(e);
    expect(store.get(id)).toBeUndefined();
    expect(phases).toEqual([]);
  });

  it("thousands of refusals (dry or not) never push out an operation waiting for Flux", async () => {
    const waiting = randomUUID();
    await store.listener({
      ...facts(waiting),
      type: "committed",
      services: moves,
      commit: "0123456789abcdef0123456789abcdef01234567",
    });
    for (let i = 0; i < 2500; i++) {
      await store.listener({
        ...facts(`preview-${i}`),
        type: "refused",
        services: ["nosuch"],
        code: "not_found",
        message: "no service nosuch",
        dryRun: true,
      });
    }
    // Real refusals are kept, but ended ones are forgotten before a pending one.
    for (let i = 0; i < 2500; i++) {
      await store.listener({
        ...facts(`real-${i}`),
        type: "refused",
        services: ["nosuch"],
        code: "not_found",
        message: "no service nosuch",
        dryRun: false,
      });
    }
    expect(store.get("preview-0")).toBeUndefined();
    expect(store.get("real-0")).toBeUndefined();
    expect(store.get("real-2499")?.status).toBe("refused");
    expect(store.get(waiting)?.status).toBe("committed");
    expect(store.pending().map((o) => o.id)).toEqual([waiting]);
  });
});
