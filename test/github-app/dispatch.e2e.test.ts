import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deploymentsState } from "../fake-github/routes/deployments.js";
import { commitCount, git } from "../helpers/git.js";
import { type AppServer, startAppServer } from "../helpers/github-app-server.js";
import { examplePayload, onGitOpsRepo } from "../helpers/webhook-payloads.js";
import { deliver } from "./deliver.js";

function workflowDispatch(
  inputs: Record<string, unknown>,
  workflow = ".github/workflows/failover.yml",
) {
  return { ...onGitOpsRepo(examplePayload("workflow_dispatch"), "alice"), workflow, inputs };
}

function repositoryDispatch(clientPayload: Record<string, unknown>, action = "failover") {
  return {
    ...onGitOpsRepo(examplePayload("repository_dispatch"), "deploy-bot"),
    action,
    client_payload: clientPayload,
  };
}

describe("workflow_dispatch and repository_dispatch", () => {
  let app: AppServer;
  beforeEach(async () => {
    app = await startAppServer();
  });
  afterEach(async () => {
    await app.close();
  });
  const deployments = () => deploymentsState({ fake: app.fake.context });

  it("the failover workflow's inputs (booleans as strings) promote the service in one commit", async () => {
    const res = await deliver(
      app,
      "workflow_dispatch",
      workflowDispatch({ service: "radarr", action: "promote", dry_run: "false", mode: "default" }),
    );
    expect(res.status).toBe(200);
    expect(commitCount(app.fake.dir)).toBe(2);
    expect(git(app.fake.dir, "log", "-1", "--format=%B", "main")).toContain(
      "Failover-Trigger: workflow_dispatch\nFailover-Requester: alice",
    );
    expect(deployments()).toEqual([
      expect.objectContaining({
        environment: "failover-radarr",
        payload: expect.objectContaining({ trigger: "workflow_dispatch" }),
      }),
    ]);
  });

  it("a dry run, a status, another workflow and bad inputs write nothing", async () => {
    await deliver(
      app,
      "workflow_dispatch",
      workflowDispatch({ service: "radarr", action: "promote", dry_run: "true", mode: "default" }),
    );
    await deliver(
      app,
      "workflow_dispatch",
      workflowDispatch({ service: "radarr", action: "status", dry_run: false }),
    );
    await deliver(
      app,
      "workflow_dispatch",
      workflowDispatch({ service: "radarr", action: "promote" }, ".github/workflows/deploy.yml"),
    );
    await deliver(
      app,
      "workflow_dispatch",
      workflowDispatch({ service: "Radarr;rm -rf /", action: "promote" }),
    );
    await deliver(
      app,
      "workflow_dispatch",
      workflowDispatch({ service: "radarr", action: "explode" }),
    );
    expect(commitCount(app.fake.dir)).toBe(1);
    expect(deployments()).toEqual([]);
  });

  it("repository_dispatch `failover` with client_payload promotes and demotes", async () => {
    await deliver(
      app,
      "repository_dispatch",
      repositoryDispatch({ service: "sonarr", action: "promote" }),
    );
    expect(commitCount(app.fake.dir)).toBe(2);
    await deliver(
      app,
      "repository_dispatch",
      repositoryDispatch({ service: "sonarr", action: "demote", dry_run: false }),
    );
    expect(commitCount(app.fake.dir)).toBe(3);
    expect(git(app.fake.dir, "log", "-1", "--format=%B", "main")).toContain(
      "Failover-Trigger: repository_dispatch",
    );
    await deliver(
      app,
      "repository_dispatch",
      repositoryDispatch({ service: "sonarr", action: "promote" }, "deploy"),
    );
    expect(commitCount(app.fake.dir)).toBe(3);
  });

  it("a refused failover is recorded as a failed deployment", async () => {
    const head = await app.fake.head();
    const path = "clusters/homelab/apps/media/sonarr/deployment.yaml";
    const text = (await app.fake.repo.read("main", [path])).files.get(path) ?? "";
    await app.fake.repo.commit({
      branch: "main",
      expectedHead: head,
      message: "hand edit: a value neither side knows",
      changes: [{ path, text: text.replace("role: primary", "role: spare") }],
    });
    await deliver(
      app,
      "repository_dispatch",
      repositoryDispatch({ service: "sonarr", action: "promote" }),
    );
    expect(commitCount(app.fake.dir)).toBe(2);
    expect(deployments()).toEqual([
      expect.objectContaining({ environment: "failover-sonarr", ref: "main" }),
    ]);
    expect(deployments()[0]?.statuses).toEqual([
      expect.objectContaining({
        state: "failure",
        description: expect.stringMatching(/^promote failed: refused: /),
      }),
    ]);
  });
});
