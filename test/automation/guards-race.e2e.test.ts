import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.js";
import { fileAt, git } from "../helpers/git.js";
import { demoFiles } from "../helpers/github-app-server.js";
import {
  ALERT_TOKEN,
  type AutomationServer,
  alertPayload,
  startAutomationServer,
  startSink,
} from "./automation-server.js";

type Outcome = {
  result: string;
  services: string[];
  heldBack: { guard: string; service?: string }[];
};

const SONARR = "clusters/homelab/apps/media/sonarr/deployment.yaml";
const RADARR = "clusters/homelab/apps/media/radarr/deployment.yaml";

/** sonarr on node k3s-w1 (placement `primary`), radarr on k3s-w3 (`primary2`); both opt in. */
const SERVICES = `nodes:
  k3s-w1: primary
  k3s-w3: primary2
services:
  sonarr:
    namespace: media
    deployment: sonarr
    volume_name: sonarr-data
    primary_pvc: pvc-sonarr
    backup_pvc: pvc-sonarr-backup
    primary_node_label: primary
    backup_node_label: backup
    auto_failover: true
  radarr:
    namespace: media
    deployment: radarr
    volume_name: radarr-data
    primary_pvc: pvc-radarr
    backup_pvc: pvc-radarr-backup
    primary_node_label: primary2
    backup_node_label: backup
    auto_failover: true
    path: ${RADARR}
`;

function files(): Record<string, string> {
  const all = demoFiles();
  all[RADARR] = (all[RADARR] ?? "").replace("role: primary\n", "role: primary2\n");
  return all;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function outcomeOf(res: Response | Promise<Response>): Promise<Outcome> {
  const response = await res;
  expect(response.status).toBe(200);
  const [outcome] = ((await response.json()) as { alerts: Outcome[] }).alerts;
  if (outcome === undefined) throw new Error("no outcome");
  return outcome;
}

const nodeSelector = (dir: string, path: string) =>
  /role: (\S+)/.exec(fileAt(dir, "main", path))?.[1];

/**
 * Two replicas of the closed loop (each its own runtime: caches, Octokit, memory) on one
 * fake GitHub. The race is made, not hoped for: the fake holds the first replica's commit
 * (its read is done) until the second replica has read, decided and committed; then the
 * held commit is carried out and loses the compare-and-swap. The guards must be decided again
 * on the head the re-planned commit would land on.
 */
describe("automatic-failover guards hold at the commit, across replicas", () => {
  let fake: FakeGitHub;
  let a: AutomationServer;
  let b: AutomationServer;
  let sink: Awaited<ReturnType<typeof startSink>>;
  const startsAt = new Date(Date.now() - 10 * 60_000);

  beforeAll(async () => {
    sink = await startSink();
    fake = await startFakeGitHub({ files: files(), owner: "acme", repo: "gitops" });
    // A held commit waits for the other replica: the budget must not end it meanwhile.
    const env = {
      FAILOVER_BUDGET_MS: "600000",
      FAILOVER_NOTIFY: `generic+${sink.url}/notify`,
    };
    [a, b] = await Promise.all([
      startAutomationServer(() => SERVICES, env, { fake }),
      startAutomationServer(() => SERVICES, env, { fake }),
    ]);
    // Warm both (installation token, default branch, manifests): the race is the failover.
    for (const r of [a, b]) expect((await fetch(`${r.url}/api/services`)).status).toBe(200);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await fake?.close();
    await sink?.close();
  });

  /** Holds the next createCommitOnBranch until released; `taken` resolves when it arrives. */
  function holdNextCommit() {
    const taken = deferred();
    let held = false;
    const hold = fake.inject({
      match: { graphqlMutation: "createCommitOnBranch" },
      hang: true,
      onTaken: () => {
        held = true;
        taken.resolve();
      },
    });
    return {
      /** Resolves when the commit of `answer`'s run is held; fails if it answered first. */
      taken: (answer: Promise<unknown>) =>
        Promise.race([
          taken.promise,
          answer.then(() => {
            if (!held) throw new Error("the alert was answered before its commit was held");
          }),
        ]),
      release: () => hold.cancel(),
    };
  }

  const commits = () => Number(git(fake.dir, "rev-list", "--count", "main"));

  it("two alerts for different nodes on two replicas: one node fails over, the other is held back by one_node_at_a_time", async () => {
    const before = commits();
    const hold = holdNextCommit();
    // Replica a: node k3s-w1 down. It reads, decides, plans, and its commit is held.
    const first = a.alert(
      alertPayload({ node: "k3s-w1", startsAt, fingerprint: "aa00000000000001" }),
    );
    await hold.taken(first);
    // Replica b: node k3s-w3 down. It read before a's commit landed too: nothing failed over.
    const second = await outcomeOf(
      b.alert(
        alertPayload({
          node: "k3s-w3",
          startsAt,
          alertname: "KubeNodeUnreachable",
          fingerprint: "bb00000000000001",
        }),
      ),
    );
    expect(second).toMatchObject({ result: "applied", services: ["radarr"] });
    // a's held commit now lands on a moved head: it loses, re-reads, and asks the guards again.
    hold.release();
    const held = await outcomeOf(first);
    expect(held).toMatchObject({ result: "held_back", services: [] });
    expect(held.heldBack.map((h) => h.guard)).toEqual(["one_node_at_a_time"]);

    expect(commits()).toBe(before + 1);
    expect(nodeSelector(fake.dir, RADARR)).toBe("backup");
    expect(nodeSelector(fake.dir, SONARR)).toBe("primary");
    // Held back is reported as for any guard: notified and counted.
    await a.runtime.background.idle();
    await a.automation.notifier.flush();
    const notices = sink.received.map((r) => JSON.parse(r.body) as { type: string; title: string });
    expect(notices.filter((n) => n.type === "automatic_held_back")).toHaveLength(1);
    expect(await a.registry().getSingleMetricAsString("failover_guard_holdbacks_total")).toContain(
      'guard="one_node_at_a_time"} 1',
    );
  });

  it("a cooldown race: an alert decided before another replica's automatic promote does not move the service again within its cooldown", async () => {
    // radarr back by hand (manual: no cooldown, and no node failed over automatically any more).
    const back = await a.post(
      "/api/failover/radarr/demote",
      {},
      {
        authorization: `Bearer ${ALERT_TOKEN}`,
      },
    );
    expect(back.status).toBe(200);
    const before = commits();
    const hold = holdNextCommit();
    // Replica b: node k3s-w1 down (one alert). It decides from history without any recent
    // automatic move of sonarr, and its commit is held.
    const late = b.alert(
      alertPayload({ node: "k3s-w1", startsAt, fingerprint: "bb00000000000002" }),
    );
    await hold.taken(late);
    // Replica a: another alert for the node: sonarr moves automatically.
    const first = await outcomeOf(
      a.alert(
        alertPayload({
          node: "k3s-w1",
          startsAt,
          alertname: "KubeNodeUnreachable",
          fingerprint: "aa00000000000002",
        }),
      ),
    );
    expect(first).toMatchObject({ result: "applied", services: ["sonarr"] });
    // A person fails sonarr back at once: b's plan, made again, would move it again.
    const demoted = await a.post(
      "/api/failover/sonarr/demote",
      {},
      {
        authorization: `Bearer ${ALERT_TOKEN}`,
      },
    );
    expect(demoted.status).toBe(200);
    hold.release();
    const held = await outcomeOf(late);
    expect(held).toMatchObject({ result: "held_back", services: [] });
    expect(held.heldBack).toEqual([
      expect.objectContaining({ guard: "cooldown", service: "sonarr" }),
    ]);

    expect(commits()).toBe(before + 2);
    expect(nodeSelector(fake.dir, SONARR)).toBe("primary");
  });
});
