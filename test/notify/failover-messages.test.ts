import { describe, expect, it } from "vitest";
import type { FailoverEvent } from "../../src/failover/events.js";
import { eventMessage, phaseMessage } from "../../src/notify/failover-messages.js";
import type { Operation } from "../../src/operations/operation.js";

const facts = {
  operation: "op-1",
  action: "promote" as const,
  trigger: "alertmanager" as const,
  requester: "alertmanager KubeNodeNotReady key=0123456789abcdef01234567",
  node: "primary",
  branch: "main",
  at: "2026-12-02T02:00:00.000Z",
};
const services = [
  { service: "sonarr", from: "primary" as const, to: "backup" as const, files: ["a.yaml"] },
];

describe("which pipeline events are notified, and how", () => {
  it.each<[FailoverEvent, string | undefined, "normal" | "high" | undefined]>([
    [{ ...facts, type: "planned", services, dryRun: false }, undefined, undefined],
    [
      {
        ...facts,
        type: "pr_opened",
        services,
        pullRequest: { number: 1, url: "u" },
        autoMerge: true,
      },
      undefined,
      undefined,
    ],
    [
      { ...facts, type: "committed", services, commit: "0123456789abcdef0123456789abcdef01234567" },
      "failover promote committed (node primary)",
      "normal",
    ],
    [
      {
        ...facts,
        type: "refused",
        services: ["sonarr"],
        code: "locked",
        message: "sonarr is locked",
      },
      "failover promote refused (node primary)",
      "high",
    ],
    [
      {
        ...facts,
        type: "failed",
        services: ["sonarr"],
        code: "conflict",
        message: "the branch kept moving",
      },
      "failover promote failed (node primary)",
      "high",
    ],
  ])("%#: %j", (event, title, priority) => {
    const message = eventMessage(event);
    expect(message?.title).toBe(title);
    expect(message?.priority).toBe(priority);
    if (message !== undefined)
      expect(message.event).toMatchObject({ type: event.type, operation: "op-1" });
  });

  it("a dry run is never notified, refused or failed: a preview changes nothing, anyone may ask", () => {
    const refused: FailoverEvent = {
      ...facts,
      type: "refused",
      services: ["nosuch"],
      code: "not_found",
      message: "no service nosuch",
      dryRun: true,
    };
    expect(eventMessage(refused)).toBeUndefined();
    expect(eventMessage({ ...refused, type: "failed", code: "upstream" })).toBeUndefined();
    expect(eventMessage({ ...facts, type: "planned", services, dryRun: true })).toBeUndefined();
    // The same refusal of a real attempt is news.
    expect(eventMessage({ ...refused, dryRun: false })?.priority).toBe("high");
  });

  it("a no-op is not notified: nothing changed", () => {
    expect(eventMessage({ ...facts, type: "unchanged", services })).toBeUndefined();
  });

  it("a commit's text names the moves, the commit and that Flux is next", () => {
    const message = eventMessage({
      ...facts,
      type: "committed",
      services,
      commit: "0123456789abcdef0123456789abcdef01234567",
    });
    expect(message?.text).toBe(
      `sonarr primary -> backup: commit 0123456789ab by ${facts.requester} (alertmanager); waiting for Flux`,
    );
  });
});

describe("Flux's word on an operation", () => {
  const op: Operation = {
    id: "op-1",
    action: "promote",
    trigger: "alertmanager",
    requester: "alertmanager",
    node: "primary",
    services: ["radarr", "sonarr"],
    status: "confirmed",
    phases: [{ phase: "confirmed", at: "2026-12-02T02:01:00.000Z", detail: "…" }],
    commit: { sha: "0123456789abcdef0123456789abcdef01234567", url: undefined },
    pullRequest: undefined,
    flux: {
      kustomization: "flux-system/radarr, flux-system/sonarr",
      revision: "0123456789abcdef0123456789abcdef01234567",
      message: "ok",
    },
    rtoSeconds: 42,
  };

  it("a confirmation that needed two Kustomizations names both", () => {
    expect(phaseMessage(op, "confirmed")?.text).toBe(
      "Flux applied 0123456789ab in 42.0 s (flux-system/radarr, flux-system/sonarr)",
    );
  });

  it("a no-op is no news: nothing was written", () => {
    expect(phaseMessage({ ...op, status: "no_op" }, "no_op")).toBeUndefined();
  });
});
