import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitCount, git } from "../helpers/git.js";
import { eventually } from "../ops/ops-server.js";
import { type AutomationServer, alertPayload, startAutomationServer } from "./automation-server.js";

type Outcome = { result: string; heldBack: { guard: string; retryAt?: number }[] };

describe("a guard that passes with time is looked at again without waiting for Alertmanager", () => {
  let server: AutomationServer;
  // The automation's clock: the test moves it, so a slow machine cannot pass the guard early.
  const t0 = Date.now();
  let clock = t0;
  beforeAll(async () => {
    server = await startAutomationServer(
      (demo) =>
        `automation:\n  auto_failover_after: 1s\n${demo.replace(
          "    backup_node_label: backup\n",
          "    backup_node_label: backup\n    auto_failover: true\n",
        )}`,
      {},
      { now: () => clock },
    );
  });
  afterAll(() => server?.close());

  it("held back by auto_failover_after, then promoted once the alert is old enough", async () => {
    const before = commitCount(server.repoDir);
    const res = await server.alert(alertPayload({ node: "primary", startsAt: new Date(t0) }));
    const [outcome] = ((await res.json()) as { alerts: Outcome[] }).alerts;
    expect(outcome?.result).toBe("held_back");
    expect(outcome?.heldBack[0]?.guard).toBe("auto_failover_after");
    expect(commitCount(server.repoDir)).toBe(before);
    clock = t0 + 5000; // the alert is now old enough: the scheduled look moves it
    await eventually(
      async () => (commitCount(server.repoDir) > before ? true : undefined),
      "the re-examined alert's commit",
      30_000,
    );
    expect(git(server.repoDir, "log", "-1", "--format=%B", "main")).toContain(
      "Failover-Trigger: alertmanager",
    );
    expect(commitCount(server.repoDir)).toBe(before + 1);
  });

  it("a signed Flux event of the wrong shape is refused (400), not half-read", async () => {
    const res = await server.fluxEvent({
      involvedObject: { kind: "Kustomization" },
      severity: "loud",
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
  });
});
