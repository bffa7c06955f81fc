import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitCount, git } from "../helpers/git.js";
import { fluxEvent } from "./automation-server.js";
import { startWiringServer, type WiringServer } from "./wiring-server.js";

type Json = Record<string, unknown>;
type Operation = {
  id: string;
  status: string;
  services: string[];
  phases: { phase: string; detail?: string }[];
  commit?: { sha: string };
};

async function operationAt(server: WiringServer, location: string): Promise<Operation> {
  const res = await server.request("GET", location);
  expect(res.status).toBe(200);
  return ((await res.json()) as { operation: Operation }).operation;
}

describe("?wait=false: 202 with the operation, which goes on to Flux's confirmation", () => {
  let server: WiringServer;
  beforeAll(async () => {
    server = await startWiringServer((demo) => demo);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("answers 202 + Location at once; the operation is known, commits, and a signed Flux event confirms it", async () => {
    const before = commitCount(server.repoDir);
    const res = await server.request("POST", "/api/failover/sonarr/promote?wait=false");
    expect(res.status).toBe(202);
    const body = (await res.json()) as { operation: string; status: string; location: string };
    const location = res.headers.get("location");
    expect(location).toBe(`/api/operations/${body.operation}`);
    expect(body).toMatchObject({ status: "requested", location });

    // Known as soon as the 202 is out, before the failover ends.
    const early = await operationAt(server, location ?? "");
    expect(early.id).toBe(body.operation);
    expect(early.phases[0]?.phase).toBe("requested");
    expect(early.services).toEqual(["sonarr"]);

    await server.runtime.background.idle();
    expect(commitCount(server.repoDir)).toBe(before + 1);
    const sha = git(server.repoDir, "rev-parse", "main").trim();
    expect(git(server.repoDir, "log", "-1", "--format=%B", "main")).toContain(
      `Failover-Request: ${body.operation}`,
    );
    const committed = await operationAt(server, location ?? "");
    expect(committed.status).toBe("committed");
    expect(committed.commit?.sha).toBe(sha);

    const flux = await server.fluxEvent(fluxEvent({ name: "apps", revision: sha }));
    expect(flux.status).toBe(202);
    const confirmed = await operationAt(server, location ?? "");
    expect(confirmed.status).toBe("confirmed");
    expect(confirmed.phases.map((p) => p.phase)).toEqual(["requested", "committed", "confirmed"]);
  });

  it("a node-wide write and a JSON body `wait: false` are accepted the same way", async () => {
    const res = await server.request("POST", "/api/nodes/primary/demote", { wait: false });
    expect(res.status).toBe(202);
    const { operation } = (await res.json()) as { operation: string };
    await server.runtime.background.idle();
    const op = await operationAt(server, `/api/operations/${operation}`);
    expect(op.status).toBe("committed");
    // radarr was already on its primary: the commit moves sonarr only.
    expect(op.services).toEqual(["sonarr"]);
  });

  it("a request refused before it is planned answers its 4xx, not a 202, and writes nothing", async () => {
    const before = commitCount(server.repoDir);
    const unknown = await server.request("POST", "/api/failover/nosuch/promote?wait=false");
    expect(unknown.status).toBe(404);
    const lock = await server.request("POST", "/api/failover/sonarr/lock?reason=maintenance");
    expect(lock.status).toBe(200);
    const locked = await server.request("POST", "/api/failover/sonarr/promote?wait=false");
    expect(locked.status).toBe(423);
    expect(((await locked.json()) as { error: Json }).error.code).toBe("locked");
    await server.request("POST", "/api/failover/sonarr/unlock");
    await server.runtime.background.idle();
    expect(commitCount(server.repoDir)).toBe(before + 2); // the lock and the unlock only
  });

  it("wait is strictly true or false, once; unknown fields are still refused", async () => {
    const before = commitCount(server.repoDir);
    for (const query of ["wait=no", "wait=0", "wait=", "wait=false&wait=false", "wiat=false"]) {
      const res = await server.request("POST", `/api/failover/sonarr/promote?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: Json }).error.code).toBe("invalid_input");
    }
    const body = await server.request("POST", "/api/failover/sonarr/promote", { wait: "false" });
    expect(body.status).toBe(400);
    const disagree = await server.request("POST", "/api/failover/sonarr/promote?wait=true", {
      wait: false,
    });
    expect(disagree.status).toBe(400);
    expect(commitCount(server.repoDir)).toBe(before);
  });

  it("a dry run with wait=false answers its plan (nothing to follow)", async () => {
    const res = await server.request(
      "POST",
      "/api/failover/sonarr/promote?wait=false&dry-run=true",
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).outcome).toBe("dry_run");
  });

  it("wait=true (the default) answers when the commit is known", async () => {
    const res = await server.request("POST", "/api/failover/sonarr/promote?wait=true");
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).outcome).toBe("applied");
  });
});
