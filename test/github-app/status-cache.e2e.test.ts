import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LoggedRequest } from "../fake-github/index.js";
import { type AppServer, startAppServer } from "../helpers/github-app-server.js";
import { examplePayload, onGitOpsRepo } from "../helpers/webhook-payloads.js";
import { type ProofRepo, SONARR_PATH, startProofRepo } from "../proof/fixture.js";

/** The demo's 2 services plus this many generated ones. */
const GENERATED = 8;
const REF = "GET /repos/acme/gitops/git/ref/heads%2Fmain";

interface ServiceStatusBody {
  service: string;
  state: string;
  head: string;
}
interface AllStatusBody {
  branch: string;
  head: string;
  services: ServiceStatusBody[];
}

/** One line per request: method, path as sent, GraphQL operation type, the answer's status. */
function lines(requests: readonly LoggedRequest[]): string[] {
  return requests.map((r) =>
    [
      `${r.method} ${r.path}`,
      r.operationType,
      r.headers["if-none-match"] === undefined ? undefined : "if-none-match",
      String(r.status),
    ]
      .filter((part) => part !== undefined)
      .join(" "),
  );
}

/**
 * GET /api/status and the single status on the fake GitHub: one read for all services, then
 * one conditional ref request (304) while the head has not moved.
 */
describe("status cache in GitHub mode", () => {
  let proof: ProofRepo;
  let app: AppServer;
  beforeEach(async () => {
    proof = await startProofRepo(GENERATED);
    app = await startAppServer({ fake: proof.fake, env: { FAILOVER_CONFIG: proof.configPath } });
  });
  afterEach(async () => {
    await app.close();
    await proof.close();
  });

  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${app.url}${path}`);
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  const allStatus = () => get<AllStatusBody>("/api/status");
  const stateOf = (body: AllStatusBody, service: string) =>
    body.services.find((s) => s.service === service)?.state;
  /** Someone else commits `path` on main, straight into the fake's repository. */
  const commitBySomeoneElse = async (path: string, text: string) =>
    (
      await proof.fake.repo.commit({
        branch: "main",
        expectedHead: await proof.fake.head(),
        message: "someone else",
        changes: [{ path, text }],
      })
    ).sha;
  const pushWebhook = (ref: string, after: string, fullName = "acme/gitops") => {
    const payload = onGitOpsRepo(examplePayload("push"), "someone");
    (payload.repository as Record<string, unknown>).full_name = fullName;
    return app.sendWebhook("push", { ...payload, ref, after, deleted: false });
  };

  it("all N services: cold one read, warm one 304 and no GraphQL, moved one read, own promote never stale", async () => {
    const fake = proof.fake;
    const names = proof.services.map((s) => s.name).sort();
    expect(names).toHaveLength(2 + GENERATED);

    // Cold: the app's setup calls, the head probe, the tree listing (first time), ONE read.
    const cold = await allStatus();
    expect(cold.branch).toBe("main");
    expect(cold.head).toBe(await fake.head());
    expect(cold.services.map((s) => s.service)).toEqual(names);
    expect(cold.services.every((s) => s.state === "primary" && s.head === cold.head)).toBe(true);
    expect(lines(fake.requests)).toEqual([
      "GET /repos/acme/gitops/installation 200",
      "POST /app/installations/4242/access_tokens 201",
      "GET /repos/acme/gitops 200", // the default branch
      `${REF} 200`,
      "GET /repos/acme/gitops/git/trees/main 200",
      "POST /graphql query 200",
    ]);
    expect(fake.graphqlRequests).toHaveLength(1);

    // Warm, head unchanged: exactly one conditional ref request, answered 304; no GraphQL.
    fake.resetLog();
    expect(await allStatus()).toEqual(cold);
    expect(lines(fake.requests)).toEqual([`${REF} if-none-match 304`]);
    // The single status shares the cache.
    fake.resetLog();
    const single = await get<ServiceStatusBody>("/api/failover/svc-03/status");
    expect(single).toEqual(cold.services.find((s) => s.service === "svc-03"));
    expect(lines(fake.requests)).toEqual([`${REF} if-none-match 304`]);

    // Someone else commits: one ref request (200) and one read; their change shows.
    const svc02 = proof.services.find((s) => s.name === "svc-02");
    if (svc02 === undefined) throw new Error("no svc-02");
    const theirs = await commitBySomeoneElse(svc02.path, svc02.backup);
    fake.resetLog();
    const moved = await allStatus();
    expect(lines(fake.requests)).toEqual([`${REF} if-none-match 200`, "POST /graphql query 200"]);
    expect(moved.head).toBe(theirs);
    expect(stateOf(moved, "svc-02")).toBe("backup");
    expect(stateOf(moved, "svc-01")).toBe("primary");

    // Our own promote: the next status reflects it (the cache was told the new head).
    const promote = await fetch(`${app.url}/api/failover/sonarr/promote`, { method: "POST" });
    const promoted = (await promote.json()) as { outcome: string; commit: { sha: string } };
    expect(promoted.outcome).toBe("applied");
    await app.runtime.background.idle(); // its audit and superseded-PR lookup, after the answer
    fake.resetLog();
    const after = await allStatus();
    expect(after.head).toBe(promoted.commit.sha);
    expect(stateOf(after, "sonarr")).toBe("backup");
    expect((await get<ServiceStatusBody>("/api/failover/sonarr/status")).state).toBe("backup");
    // Told the head moved, the probe asks unconditionally; then warm again.
    expect(lines(fake.requests)).toEqual([
      `${REF} 200`,
      "POST /graphql query 200",
      `${REF} if-none-match 304`,
    ]);
    expect(fake.requests.some((r) => r.path.includes("/git/trees/"))).toBe(false);
    expect(proof.services.find((s) => s.name === "sonarr")?.path).toBe(SONARR_PATH);
  });

  it("a push webhook for the branch drops the cache, so a lagging ref answer cannot serve a stale status", async () => {
    const fake = proof.fake;
    const before = await allStatus();
    const radarr = proof.services.find((s) => s.name === "radarr");
    if (radarr === undefined) throw new Error("no radarr");

    // Pushes elsewhere change nothing: still one 304 and no read.
    expect((await pushWebhook("refs/heads/other", "1".repeat(40))).status).toBe(200);
    expect((await pushWebhook("refs/heads/main", "2".repeat(40), "acme/other")).status).toBe(200);
    fake.resetLog();
    expect(await allStatus()).toEqual(before);
    expect(lines(fake.requests)).toEqual([`${REF} if-none-match 304`]);

    // Someone else pushes radarr to backup, and GitHub's REST ref answer still shows the old
    // head (a replica behind): without the webhook this would be a 304 and a stale answer.
    const theirs = await commitBySomeoneElse(radarr.path, radarr.backup);
    const lagging = fake.inject({
      match: { method: "GET", path: /\/git\/ref\// },
      times: Number.POSITIVE_INFINITY,
      respond: {
        status: 200,
        body: { ref: "refs/heads/main", object: { type: "commit", sha: before.head } },
      },
    });
    expect((await pushWebhook("refs/heads/main", theirs)).status).toBe(200);
    fake.resetLog();
    const after = await allStatus();
    expect(after.head).toBe(theirs);
    expect(stateOf(after, "radarr")).toBe("backup");
    expect(lines(fake.requests)).toEqual([`${REF} 200`, "POST /graphql query 200"]);
    lagging.cancel();

    // The webhook of a commit already read changes nothing: warm stays warm.
    fake.resetLog();
    await allStatus(); // the ref's real ETag now
    expect((await pushWebhook("refs/heads/main", theirs)).status).toBe(200);
    expect(await allStatus()).toEqual(after);
    expect(lines(fake.requests)).toEqual([`${REF} 200`, `${REF} if-none-match 304`]);
  });

  it("failover planning never reads from the cache", async () => {
    const fake = proof.fake;
    await allStatus();
    const radarr = proof.services.find((s) => s.name === "radarr");
    if (radarr === undefined) throw new Error("no radarr");
    // Someone else moved radarr to backup; a promote must see it (no_op), not the cached primary.
    await commitBySomeoneElse(radarr.path, radarr.backup);
    fake.resetLog();
    const res = await fetch(`${app.url}/api/failover/radarr/promote`, { method: "POST" });
    expect(((await res.json()) as { outcome: string }).outcome).toBe("no_op");
    expect(fake.requests.some((r) => r.path.includes("/git/ref/"))).toBe(false);
    expect(fake.graphqlRequests).toHaveLength(1);
  });
});
