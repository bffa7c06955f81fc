import { createHmac } from "node:crypto";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOperations } from "../../src/compose.js";
import { parseEnv } from "../../src/config/env.js";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { createHttpApp, listen, type RunningServer } from "../../src/server.js";
import { FLUX_SECRET, fluxEvent } from "../automation/automation-server.js";
import { deploymentsState } from "../fake-github/routes/deployments.js";
import { issuesState } from "../fake-github/routes/issues.js";
import { git } from "../helpers/git.js";
import { type AppServer, startAppServer } from "../helpers/github-app-server.js";
import { issueComment } from "../helpers/webhook-payloads.js";
import { deliver } from "./deliver.js";

/**
 * Issue 12's after-effects of Flux's word, end to end: a ChatOps command through a signed
 * webhook commits on the fake GitHub; its Deployment is `in_progress`; a signed Flux event
 * (generic-hmac Provider) for the commit turns it `success` (or `failure` for an error
 * event, `error` when the confirmation times out) and edits the bot's reply with one line
 * and the measured time from the request to Flux applied.
 */
describe("Flux confirmation on the Deployment and the ChatOps reply", () => {
  let app: AppServer;
  let api: RunningServer;
  let closeOps: () => void;
  beforeEach(async () => {
    app = await startAppServer({
      roles: { alice: "write" },
      env: { FLUX_EVENTS_SECRET: FLUX_SECRET },
    });
    // The same runtime served as `serve` serves it: the closed loop's routes mounted.
    const env = parseEnv({ FAILOVER_CONFIG: DEMO_CONFIG, FLUX_EVENTS_SECRET: FLUX_SECRET });
    const logger = pino({ level: "silent" });
    const operations = createOperations(env, app.runtime, logger);
    closeOps = () => operations.close();
    api = await listen(
      createHttpApp(app.runtime.ctx, logger, {
        webhooks: app.runtime.webhooks,
        operations,
        automation: app.runtime.automation,
      }),
      0,
      "127.0.0.1",
    );
  });
  afterEach(async () => {
    await app.runtime.background.idle();
    await api.close();
    closeOps();
    await app.close();
  });

  const postFlux = (event: unknown, secret = FLUX_SECRET) => {
    const body = JSON.stringify(event);
    return fetch(`${api.url}/api/flux/events`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-signature": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
      },
      body,
    });
  };
  const replies = () => issuesState({ fake: app.fake.context }).comments.map((c) => c.body);
  const deployment = () => {
    const all = deploymentsState({ fake: app.fake.context });
    expect(all).toHaveLength(1);
    return all[0];
  };
  const promoteByChatOps = async () => {
    const res = await deliver(
      app,
      "issue_comment",
      issueComment("/failover sonarr promote", "alice"),
    );
    expect(res.status).toBe(200);
    const sha = git(app.fake.dir, "rev-parse", "main").trim();
    const operation =
      (deployment()?.payload as { operation?: string } | undefined)?.operation ?? "";
    expect(operation).not.toBe("");
    // Committed is not applied: the Deployment waits for Flux.
    expect(deployment()?.statuses.map((s) => s.state)).toEqual(["in_progress"]);
    expect(replies()).toHaveLength(1);
    expect(replies()[0]).not.toContain("Flux");
    return { sha, operation };
  };

  it("confirmed: Deployment success, reply edited with ✅ and the time since the request", async () => {
    const { sha, operation } = await promoteByChatOps();
    const wrong = await postFlux(fluxEvent({ name: "apps", revision: sha }), "not-the-secret");
    expect(wrong.status).toBe(401);
    expect(deployment()?.statuses.map((s) => s.state)).toEqual(["in_progress"]);

    const res = await postFlux(fluxEvent({ name: "apps", revision: sha }));
    expect(res.status).toBe(202);
    await app.runtime.background.idle();

    expect(app.runtime.automation?.store.get(operation)?.status).toBe("confirmed");
    expect(deployment()?.statuses.map((s) => s.state)).toEqual(["in_progress", "success"]);
    expect(deployment()?.statuses[1]?.description).toContain(`Flux applied ${sha.slice(0, 7)}`);
    // The same comment, edited: still one reply, its first text kept, one line more.
    expect(replies()).toHaveLength(1);
    const [body = ""] = replies();
    expect(body).toMatch(/@alice: sonarr moved from primary to backup in commit/);
    expect(body).toMatch(
      new RegExp(
        `\\n\\n✅ Flux applied ${sha.slice(0, 7)} \\(Kustomization flux-system/apps\\) at \\S+, \\d+ (s|min)[^\\n]* after the request$`,
      ),
    );
    const edits = app.fake.requests.filter((r) => r.method === "PATCH");
    expect(edits).toHaveLength(1);

    // A redelivered event changes nothing more: the operation is final.
    await postFlux(fluxEvent({ name: "apps", revision: sha }));
    await app.runtime.background.idle();
    expect(deployment()?.statuses).toHaveLength(2);
    expect(app.fake.requests.filter((r) => r.method === "PATCH")).toHaveLength(1);
  });

  it("failed: Deployment failure, reply edited with ❌ and Flux's message", async () => {
    const { sha } = await promoteByChatOps();
    const res = await postFlux(
      fluxEvent({
        name: "apps",
        revision: sha,
        severity: "error",
        reason: "HealthCheckFailed",
        message:
          "Health check failed after 2m0s: timeout waiting for: [Deployment/media/sonarr status: 'InProgress']",
      }),
    );
    expect(res.status).toBe(202);
    await app.runtime.background.idle();
    expect(deployment()?.statuses.map((s) => s.state)).toEqual(["in_progress", "failure"]);
    expect(replies()[0]).toMatch(
      new RegExp(
        `\\n\\n❌ Flux failed to apply ${sha.slice(0, 7)} at \\S+, .* after the request: .*Health check failed`,
      ),
    );
  });

  it("unconfirmed (the confirmation timeout): Deployment error, reply edited with ⚠️", async () => {
    const { operation } = await promoteByChatOps();
    // What the store's FLUX_CONFIRM_TIMEOUT_MS timer does when it fires (no real wait here).
    const store = app.runtime.automation?.store;
    expect(
      store?.settle(
        operation,
        "unconfirmed",
        "no Flux reconcile of this commit reported within 600 s",
      ),
    ).toBeDefined();
    await app.runtime.background.idle();
    expect(deployment()?.statuses.map((s) => s.state)).toEqual(["in_progress", "error"]);
    expect(replies()[0]).toMatch(
      /\n\n⚠️ Flux did not report applying [0-9a-f]{7}, .* after the request: no Flux reconcile/,
    );
  });

  it("an HTTP failover is not a reply: its Deployment follows Flux all the same", async () => {
    const res = await fetch(`${api.url}/api/failover/radarr/promote`, { method: "POST" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { commit: { sha: string } };
    await app.runtime.background.idle();
    expect(deployment()?.statuses.map((s) => s.state)).toEqual(["in_progress"]);
    expect((await postFlux(fluxEvent({ name: "apps", revision: body.commit.sha }))).status).toBe(
      202,
    );
    await app.runtime.background.idle();
    expect(deployment()?.statuses.map((s) => s.state)).toEqual(["in_progress", "success"]);
    expect(app.fake.requests.filter((r) => r.method === "PATCH")).toHaveLength(0);
  });
});
