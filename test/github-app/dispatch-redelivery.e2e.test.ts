import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deploymentsState } from "../fake-github/routes/deployments.js";
import { commitCount, fileAt, git } from "../helpers/git.js";
import { type AppServer, startAppServer } from "../helpers/github-app-server.js";
import { examplePayload, onGitOpsRepo } from "../helpers/webhook-payloads.js";
import { deliver } from "./deliver.js";

const MANIFEST = "clusters/homelab/apps/media/sonarr/deployment.yaml";

function repositoryDispatch(clientPayload: Record<string, unknown>) {
  return {
    ...onGitOpsRepo(examplePayload("repository_dispatch"), "deploy-bot"),
    action: "failover",
    client_payload: clientPayload,
  };
}

function workflowDispatch(inputs: Record<string, unknown>) {
  return {
    ...onGitOpsRepo(examplePayload("workflow_dispatch"), "alice"),
    workflow: ".github/workflows/failover.yml",
    inputs,
  };
}

const EVENTS = [
  ["repository_dispatch", repositoryDispatch],
  ["workflow_dispatch", workflowDispatch],
] as const;

/**
 * Review finding 5: a dispatch is one request, named by its X-GitHub-Delivery id, which GitHub
 * keeps on "Redeliver". A redelivery after the fact, or racing the first delivery on the other
 * replica, never makes a second commit.
 */
describe("a redelivered dispatch", () => {
  let app: AppServer;
  beforeEach(async () => {
    app = await startAppServer();
  });
  afterEach(async () => {
    await app.close();
  });
  const deployments = () => deploymentsState({ fake: app.fake.context });
  const onPrimary = () => fileAt(app.fake.dir, "main", MANIFEST).includes("role: primary");

  it.each(EVENTS)(
    "%s: promote, demote, then the promote's delivery again: no new commit",
    async (event, payload) => {
      const delivery = randomUUID();
      const promote = payload({ service: "sonarr", action: "promote" });
      await deliver(app, event, promote, { deliveryId: delivery });
      expect(commitCount(app.fake.dir)).toBe(2);
      expect(git(app.fake.dir, "log", "-1", "--format=%B", "main")).toContain(
        `Failover-Request: ${delivery}`,
      );
      await deliver(app, event, payload({ service: "sonarr", action: "demote" }));
      expect(commitCount(app.fake.dir)).toBe(3);
      const head = await app.fake.head();

      const res = await deliver(app, event, promote, { deliveryId: delivery });
      expect(res.status).toBe(200);
      expect(await app.fake.head()).toBe(head);
      expect(onPrimary()).toBe(true);
      // Nothing recorded either: the two real failovers only.
      expect(deployments().map((d) => d.payload)).toEqual([
        expect.objectContaining({ action: "promote", operation: delivery }),
        expect.objectContaining({ action: "demote" }),
      ]);
    },
  );

  it("a new delivery of the same inputs is a new request: it promotes again", async () => {
    const promote = repositoryDispatch({ service: "sonarr", action: "promote" });
    await deliver(app, "repository_dispatch", promote);
    await deliver(
      app,
      "repository_dispatch",
      repositoryDispatch({ service: "sonarr", action: "demote" }),
    );
    await deliver(app, "repository_dispatch", promote);
    expect(commitCount(app.fake.dir)).toBe(4);
    expect(onPrimary()).toBe(false);
  });

  it("a delivery that wrote nothing (refused: locked) runs when redelivered after the unlock", async () => {
    const lock = (verb: string) =>
      fetch(`${app.url}/api/failover/sonarr/${verb}`, { method: "POST" });
    expect((await lock("lock")).status).toBe(200);
    const delivery = randomUUID();
    const promote = repositoryDispatch({ service: "sonarr", action: "promote" });
    await deliver(app, "repository_dispatch", promote, { deliveryId: delivery });
    expect(onPrimary()).toBe(true);
    expect((await lock("unlock")).status).toBe(200);
    const before = commitCount(app.fake.dir);

    await deliver(app, "repository_dispatch", promote, { deliveryId: delivery });
    expect(commitCount(app.fake.dir)).toBe(before + 1);
    expect(onPrimary()).toBe(false);
  });

  it("a delivery id that could not name a request runs nothing (fail closed)", async () => {
    await deliver(
      app,
      "repository_dispatch",
      repositoryDispatch({ service: "sonarr", action: "promote" }),
      {
        deliveryId: "not a trailer; Failover-Request: x",
      },
    );
    expect(commitCount(app.fake.dir)).toBe(1);
    expect(deployments()).toEqual([]);
  });
});

describe("a redelivery racing the first delivery on the other replica", () => {
  let first: AppServer;
  let second: AppServer;
  beforeEach(async () => {
    first = await startAppServer();
    second = await startAppServer({ fake: first.fake });
  });
  afterEach(async () => {
    await second.close();
    await first.close();
  });

  /** Holds the next commit write until released; `held` resolves when it arrives. */
  const holdNextWrite = () => {
    let taken: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      taken = resolve;
    });
    const fault = first.fake.inject({
      match: { graphqlMutation: "createCommitOnBranch" },
      hang: true,
      onTaken: () => taken(),
    });
    return { held, release: () => fault.cancel() };
  };

  it("both planned on the same head: the loser's write is recognised as the same request, one commit", async () => {
    const delivery = randomUUID();
    const promote = repositoryDispatch({ service: "sonarr", action: "promote" });
    const hold = holdNextWrite();
    await second.sendWebhook("repository_dispatch", promote, { deliveryId: delivery });
    await hold.held;
    await deliver(first, "repository_dispatch", promote, { deliveryId: delivery });
    const head = await first.fake.head();
    hold.release();
    await second.runtime.background.idle();
    expect(await first.fake.head()).toBe(head);
    expect(commitCount(first.fake.dir)).toBe(2);
  });

  it("a demote landing between them: the re-plan finds the request in Git, one promote commit", async () => {
    const fake = first.fake;
    const delivery = randomUUID();
    const promote = repositoryDispatch({ service: "sonarr", action: "promote" });
    // The second replica plans on the initial head, and its write is held there.
    const hold = holdNextWrite();
    expect(
      (await second.sendWebhook("repository_dispatch", promote, { deliveryId: delivery })).status,
    ).toBe(200);
    await hold.held;

    // Meanwhile: someone else's commit, the first delivery's promote on top of it, a demote.
    const path = "notes/unrelated.md";
    await fake.repo.commit({
      branch: "main",
      expectedHead: await fake.head(),
      message: "docs: unrelated",
      changes: [{ path, text: "unrelated\n" }],
    });
    await deliver(first, "repository_dispatch", promote, { deliveryId: delivery });
    await deliver(
      first,
      "repository_dispatch",
      repositoryDispatch({ service: "sonarr", action: "demote" }),
    );
    expect(commitCount(fake.dir)).toBe(4);
    const head = await fake.head();

    // The held write meets a moved head; the re-plan sees sonarr on primary again and would
    // promote it, but the request's commit is in Git now: refused, nothing written.
    hold.release();
    await second.runtime.background.idle();
    expect(await fake.head()).toBe(head);
    expect(fileAt(fake.dir, "main", MANIFEST)).toContain("role: primary");
    const promotes = git(
      fake.dir,
      "log",
      "--format=%H",
      `--grep=^Failover-Request: ${delivery}$`,
      "main",
    );
    expect(promotes.trim().split("\n")).toHaveLength(1);
    const refused = deploymentsState({ fake: fake.context }).filter(
      (d) => d.statuses[0]?.state === "failure",
    );
    expect(refused.map((d) => d.statuses[0]?.description)).toEqual([
      expect.stringMatching(/was handled already in commit [0-9a-f]{12}/),
    ]);
  });
});
