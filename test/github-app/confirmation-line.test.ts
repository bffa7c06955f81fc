import { describe, expect, it } from "vitest";
import { ReplyConfirmations } from "../../src/automation/reply-confirmation.js";
import type { Operation } from "../../src/operations/operation.js";
import { confirmationLine, humanDuration } from "../../src/presenters/chatops-markdown.js";

const operation = (over: Partial<Operation> = {}): Operation => ({
  id: "op-1",
  action: "promote",
  trigger: "chatops",
  requester: "alice",
  node: undefined,
  services: ["sonarr"],
  status: "confirmed",
  phases: [
    { phase: "requested", at: "2026-01-01T10:00:00.000Z" },
    { phase: "committed", at: "2026-01-01T10:00:01.000Z" },
    { phase: "confirmed", at: "2026-01-01T10:02:10.000Z" },
  ],
  commit: { sha: "abc1234def5678", url: undefined },
  pullRequest: undefined,
  flux: { kustomization: "flux-system/apps", revision: "main@sha1:abc1234", message: "ok" },
  rtoSeconds: 130,
  ...over,
});

describe("the confirmation line of a ChatOps reply", () => {
  it("says durations as people do", () => {
    expect([0, 45, 60, 130, 3600, 3780].map(humanDuration)).toEqual([
      "0 s",
      "45 s",
      "1 min",
      "2 min 10 s",
      "1 h",
      "1 h 3 min",
    ]);
  });

  it("confirmed: the RTO from the request; failed: Flux's message; unconfirmed: the reason", () => {
    expect(confirmationLine(operation(), "confirmed")).toBe(
      "✅ Flux applied abc1234 (Kustomization flux-system/apps) at 2026-01-01T10:02:10.000Z, 2 min 10 s after the request",
    );
    const failed = operation({
      status: "failed",
      flux: { kustomization: "flux-system/apps", revision: "x", message: "Health check\nfailed" },
      rtoSeconds: undefined,
    });
    expect(confirmationLine(failed, "failed")).toBe(
      "❌ Flux failed to apply abc1234 at 2026-01-01T10:02:10.000Z, 2 min 10 s after the request: Health check failed",
    );
    const silent = operation({
      flux: undefined,
      rtoSeconds: undefined,
      phases: [
        { phase: "requested", at: "2026-01-01T10:00:00.000Z" },
        { phase: "unconfirmed", at: "2026-01-01T10:10:00.000Z", detail: "no word in 600 s" },
      ],
    });
    expect(confirmationLine(silent, "unconfirmed")).toBe(
      "⚠️ Flux did not report applying abc1234, 10 min after the request: no word in 600 s",
    );
  });

  it("a confirmation that beats the reply's POST edits the reply once it is remembered", async () => {
    const ran: Promise<unknown>[] = [];
    const replies = new ReplyConfirmations((_what, task) => ran.push(task()));
    const edits: string[] = [];
    replies.onPhase(operation(), "committed");
    replies.onPhase(operation(), "confirmed");
    expect(ran).toHaveLength(0);
    replies.remember("op-1", { body: "reply", edit: async (b) => edits.push(b) });
    await Promise.all(ran);
    expect(edits).toEqual([`reply\n\n${confirmationLine(operation(), "confirmed")}`]);
    // Told again (another replica's event, a redelivery): nothing is remembered any more.
    replies.onPhase(operation(), "confirmed");
    replies.remember("op-2", { body: "other", edit: async (b) => edits.push(b) });
    await Promise.all(ran);
    expect(edits).toHaveLength(1);
  });
});
