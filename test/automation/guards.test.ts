import { describe, expect, it } from "vitest";
import {
  alertKeyOf,
  alertRequester,
  automaticFailoverUnknown,
  type FailoverCommit,
  lastAutomaticMoves,
  lastMoveOf,
  nodeFailedOverAutomatically,
} from "../../src/domain/automation/automatic-history.js";
import { revisionIncludes, revisionSha } from "../../src/domain/automation/flux-revision.js";
import {
  type DecisionInput,
  decideAutomaticAction,
  type ServiceFacts,
} from "../../src/domain/automation/guards.js";

const NOW = Date.parse("2026-12-02T01:00:00Z");
const MIN = 60_000;

function svc(service: string, extra: Partial<ServiceFacts> = {}): ServiceFacts {
  return {
    service,
    autoFailover: true,
    autoFailback: false,
    autoFailbackAfterMs: 10 * MIN,
    cooldownMs: 30 * MIN,
    locked: false,
    state: "primary",
    lastAutomaticAt: undefined,
    // Moved to backup by an automatic failover of its node: what a failback may undo.
    lastMove: {
      sha: "c".repeat(40),
      trigger: "alertmanager",
      requester: "alertmanager KubeNodeNotReady key=0123456789abcdef01234567",
      node: "primary",
      action: "promote",
    },
    ...extra,
  };
}

function input(extra: Partial<DecisionInput> = {}): DecisionInput {
  return {
    alert: { status: "firing", node: "primary", startsAt: NOW - 5 * MIN, endsAt: undefined },
    now: NOW,
    autoFailoverAfterMs: 2 * MIN,
    services: [svc("sonarr")],
    otherFailedOverNode: undefined,
    ...extra,
  };
}

describe("decideAutomaticAction", () => {
  it("promotes the opted-in services past every guard, and only those", () => {
    const d = decideAutomaticAction(
      input({ services: [svc("sonarr"), svc("radarr", { autoFailover: false })] }),
    );
    expect(d).toEqual({ action: "promote", services: ["sonarr"], heldBack: [], alreadyThere: [] });
  });

  const cases: [string, Partial<DecisionInput>, string, number | undefined][] = [
    [
      "an alert younger than auto_failover_after",
      { alert: { status: "firing", node: "primary", startsAt: NOW - MIN, endsAt: undefined } },
      "auto_failover_after",
      NOW + MIN,
    ],
    [
      "a firing alert replayed from memory (its timer), not sent again by Alertmanager",
      { alertReplayed: true },
      "alert_not_resent",
      undefined,
    ],
    [
      "another node failed over automatically",
      { otherFailedOverNode: "primary-2" },
      "one_node_at_a_time",
      undefined,
    ],
    ["a locked service", { services: [svc("sonarr", { locked: true })] }, "locked", undefined],
    [
      "a service in its cooldown",
      { services: [svc("sonarr", { lastAutomaticAt: NOW - 10 * MIN })] },
      "cooldown",
      NOW + 20 * MIN,
    ],
    [
      "a service whose state cannot be read",
      { services: [svc("sonarr", { state: "unknown" })] },
      "state_unknown",
      undefined,
    ],
  ];
  it.each(cases)("holds back %s, and says which guard", (_what, extra, guard, retryAt) => {
    const d = decideAutomaticAction(input(extra));
    expect(d.action).toBeUndefined();
    expect(d.services).toEqual([]);
    expect(d.heldBack.map((h) => h.guard)).toEqual([guard]);
    expect(d.heldBack[0]?.retryAt).toBe(retryAt);
    expect(d.heldBack[0]?.message).not.toBe("");
  });

  it("a cooldown that has passed holds nothing back", () => {
    const d = decideAutomaticAction(
      input({ services: [svc("sonarr", { lastAutomaticAt: NOW - 31 * MIN })] }),
    );
    expect(d.services).toEqual(["sonarr"]);
  });

  it("a replayed alert still too young is held by auto_failover_after, and a resolved one is not held by alert_not_resent", () => {
    const young = decideAutomaticAction(
      input({
        alertReplayed: true,
        alert: { status: "firing", node: "primary", startsAt: NOW - MIN, endsAt: undefined },
      }),
    );
    expect(young.heldBack.map((h) => h.guard)).toEqual(["auto_failover_after"]);
    const resolved = decideAutomaticAction(
      input({
        alertReplayed: true,
        alert: {
          status: "resolved",
          node: "primary",
          startsAt: NOW - 60 * MIN,
          endsAt: NOW - 20 * MIN,
        },
        services: [svc("sonarr", { state: "backup", autoFailback: true })],
      }),
    );
    expect(resolved).toMatchObject({ action: "demote", services: ["sonarr"] });
  });

  it("the same node failed over already is not 'another node'", () => {
    const d = decideAutomaticAction(input({ otherFailedOverNode: "primary" }));
    expect(d.services).toEqual(["sonarr"]);
  });

  it("services already on backup are reported, not moved", () => {
    const d = decideAutomaticAction(input({ services: [svc("sonarr", { state: "backup" })] }));
    expect(d).toMatchObject({ action: undefined, alreadyThere: ["sonarr"], heldBack: [] });
  });

  const resolved = (endsAt: number) => ({
    alert: { status: "resolved" as const, node: "primary", startsAt: NOW - 60 * MIN, endsAt },
  });
  it("a resolved alert never fails back a service without auto_failback", () => {
    const d = decideAutomaticAction(
      input({ ...resolved(NOW - 60 * MIN), services: [svc("sonarr", { state: "backup" })] }),
    );
    expect(d.action).toBeUndefined();
    expect(d.heldBack.map((h) => h.guard)).toEqual(["auto_failback_disabled"]);
  });

  it("with auto_failback, fails back only once the node has been healthy for auto_failback_after", () => {
    const back = svc("sonarr", { state: "backup", autoFailback: true });
    const early = decideAutomaticAction(input({ ...resolved(NOW - 4 * MIN), services: [back] }));
    expect(early.heldBack).toMatchObject([
      { guard: "auto_failback_after", retryAt: NOW + 6 * MIN },
    ]);
    const later = decideAutomaticAction(input({ ...resolved(NOW - 11 * MIN), services: [back] }));
    expect(later).toMatchObject({ action: "demote", services: ["sonarr"], heldBack: [] });
  });

  // A failback undoes what an automatic failover of this node did, never what a person did.
  const movedBy: [string, ServiceFacts["lastMove"]][] = [
    [
      "a person's promote",
      {
        sha: "d".repeat(40),
        trigger: "http",
        requester: "token alice",
        node: undefined,
        action: "promote",
      },
    ],
    [
      "another node's automatic promote",
      {
        sha: "d".repeat(40),
        trigger: "alertmanager",
        requester: "alertmanager KubeNodeNotReady key=0123456789abcdef01234567",
        node: "primary-2",
        action: "promote",
      },
    ],
    ["no commit in the history read", undefined],
  ];
  it.each(movedBy)("a resolved alert does not fail back a service moved by %s", (_w, lastMove) => {
    const d = decideAutomaticAction(
      input({
        ...resolved(NOW - 60 * MIN),
        services: [
          svc("sonarr", { state: "backup", autoFailback: true }),
          svc("radarr", { state: "backup", autoFailback: true, lastMove }),
        ],
      }),
    );
    expect(d).toMatchObject({ action: "demote", services: ["sonarr"] });
    expect(d.heldBack).toEqual([
      expect.objectContaining({ guard: "not_moved_automatically", service: "radarr" }),
    ]);
    expect(d.heldBack[0]?.message).toContain("/api/failover/radarr/demote");
  });

  it("another node's automatic failover of a service whose state is unknown holds the node back, naming the service and why", () => {
    const d = decideAutomaticAction(
      input({
        otherNodeUnknown: {
          node: "primary-2",
          service: "lidarr",
          reason: "apps/lidarr/deployment.yaml: spec.template.spec.nodeSelector.role not found",
        },
      }),
    );
    expect(d.action).toBeUndefined();
    expect(d.heldBack).toHaveLength(1);
    expect(d.heldBack[0]?.guard).toBe("state_unknown");
    expect(d.heldBack[0]?.service).toBeUndefined(); // the whole node
    expect(d.heldBack[0]?.message).toContain("lidarr");
    expect(d.heldBack[0]?.message).toContain("nodeSelector.role not found");
    // The same node's unknown service is not "another node".
    const same = decideAutomaticAction(
      input({ otherNodeUnknown: { node: "primary", service: "lidarr", reason: "x" } }),
    );
    expect(same.services).toEqual(["sonarr"]);
  });
});

function commit(extra: Partial<FailoverCommit>): FailoverCommit {
  return {
    sha: "a".repeat(40),
    url: undefined,
    at: NOW,
    operation: "op",
    trigger: "alertmanager",
    requester: "alertmanager KubeNodeNotReady key=0123456789abcdef01234567",
    node: "primary",
    moves: [{ service: "sonarr", action: "promote", to: "backup" }],
    ...extra,
  };
}

describe("guard state from Git trailers", () => {
  it("the alert key round-trips through the requester trailer", () => {
    const requester = alertRequester("KubeNodeNotReady", "0123456789abcdef01234567");
    expect(alertKeyOf(requester)).toBe("0123456789abcdef01234567");
    expect(alertKeyOf("token home-assistant")).toBeUndefined();
  });

  it("cooldowns come from automatic commits only, newest first", () => {
    const last = lastAutomaticMoves([
      commit({ at: NOW - MIN }),
      commit({ at: NOW - 2 * MIN }),
      commit({
        at: NOW,
        trigger: "http",
        moves: [{ service: "radarr", action: "promote", to: "backup" }],
      }),
    ]);
    expect([...last]).toEqual([["sonarr", NOW - MIN]]);
  });

  it("a node is failed over automatically while a service its automatic promote moved is not back", () => {
    const commits = [commit({})];
    expect(nodeFailedOverAutomatically(commits, () => "backup")).toBe("primary");
    expect(nodeFailedOverAutomatically(commits, () => "primary")).toBeUndefined();
    expect(
      nodeFailedOverAutomatically([commit({ trigger: "http" })], () => "backup"),
    ).toBeUndefined();
    expect(nodeFailedOverAutomatically(commits, () => "mixed")).toBe("primary");
  });

  it("a service removed from services.yaml since does not keep its node failed over (one_node_at_a_time)", () => {
    const commits = [
      commit({
        moves: [
          { service: "sonarr", action: "promote", to: "backup" },
          { service: "gone", action: "promote", to: "backup" },
        ],
      }),
    ];
    const states = new Map([["sonarr", "primary" as const]]);
    expect(nodeFailedOverAutomatically(commits, (s) => states.get(s))).toBeUndefined();
  });

  it("a service whose state is unknown is its own finding, with the reason, not 'not back'", () => {
    const commits = [commit({ node: "primary-2" })];
    const unknown = { state: "unknown" as const, reason: "sonarr's manifest cannot be read" };
    expect(nodeFailedOverAutomatically(commits, () => "unknown")).toBeUndefined();
    expect(automaticFailoverUnknown(commits, () => unknown)).toEqual({
      node: "primary-2",
      service: "sonarr",
      reason: "sonarr's manifest cannot be read",
    });
    expect(automaticFailoverUnknown(commits, () => undefined)).toBeUndefined();
    // The alert's own node is left out of both.
    expect(automaticFailoverUnknown(commits, () => unknown, "primary-2")).toBeUndefined();
    expect(nodeFailedOverAutomatically(commits, () => "backup", "primary-2")).toBeUndefined();
  });

  it("an older failed-over node is found past the alert's own node", () => {
    const commits = [commit({ node: "primary" }), commit({ node: "primary-2" })];
    expect(nodeFailedOverAutomatically(commits, () => "backup", "primary")).toBe("primary-2");
  });

  it("the last move of a service is the newest commit naming it, any trigger", () => {
    const newest = commit({ sha: "b".repeat(40), trigger: "http" });
    expect(lastMoveOf([newest, commit({})], "sonarr")?.sha).toBe("b".repeat(40));
    expect(lastMoveOf([newest], "radarr")).toBeUndefined();
  });
});

describe("Flux revisions", () => {
  const sha = "0123456789abcdef0123456789abcdef01234567";
  it.each([`main@sha1:${sha}`, `sha1:${sha}`, `main/${sha}`, sha])("reads %s", (r) => {
    expect(revisionSha(r)).toBe(sha);
  });
  it("reads nothing from an OCI digest or a tag", () => {
    expect(revisionSha("v1.2.3@sha256:abcd")).toBeUndefined();
    expect(revisionSha(undefined)).toBeUndefined();
  });
  it("a later commit of the branch includes an earlier one; an unknown revision is not judged", () => {
    const order = ["c3", "c2", "c1"];
    expect(revisionIncludes(order, "c3", "c2")).toBe(true);
    expect(revisionIncludes(order, "c1", "c2")).toBe(false);
    expect(revisionIncludes(order, "c2", "c2")).toBe(true);
    expect(revisionIncludes(order, "zz", "c2")).toBeUndefined();
  });
});
