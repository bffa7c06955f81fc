import { performance } from "node:perf_hooks";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BOUNDS } from "../helpers/test-bounds.js";
import {
  callJson,
  failoverCommits,
  history,
  type InProcessServer,
  startTokenServer,
} from "../proof/fixture.js";

/**
 * A GitHub call that hangs ends at GITHUB_REQUEST_TIMEOUT_MS, and a failover as a whole at
 * FAILOVER_BUDGET_MS, with 504 `timeout` saying what is known. The fake holds the request
 * until the test releases it; nothing asserts on elapsed time.
 *
 * The bounds are small so that the hang ends soon, but the healthy calls before and after it
 * run under the same bounds: fixed small values would fail them on a busy machine. So each
 * bound is derived from the same work measured here first: FACTOR times a healthy failover
 * on this machine now (at least the floor), and the assertions name the bound in force.
 */
const FACTOR = 5;
let failoverMs = 0;
const bound = (floorMs: number) => Math.max(floorMs, Math.ceil(FACTOR * failoverMs));

async function measureFailover(): Promise<number> {
  const probe = await startTokenServer(TEST_BOUNDS);
  try {
    await callJson(`${probe.url}/api/failover/sonarr/status`);
    const started = performance.now();
    const promote = await callJson(`${probe.url}/api/failover/sonarr/promote`, { method: "POST" });
    const took = performance.now() - started;
    if (promote.body.outcome !== "applied") throw new Error(`probe failover: ${promote.text}`);
    return took;
  } finally {
    await probe.close();
  }
}

async function withServer(env: Record<string, string>, run: (s: InProcessServer) => Promise<void>) {
  const server = await startTokenServer({ ...TEST_BOUNDS, GITHUB_RETRIES: "0", ...env });
  try {
    await callJson(`${server.url}/api/failover/sonarr/status`); // warm: setup calls done
    await run(server);
  } finally {
    await server.close();
  }
}

async function untilFakeIdle(server: InProcessServer): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (server.fake.requests.every((r) => r.status !== undefined)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the fake kept working");
}

describe("timeouts on GitHub calls", () => {
  beforeAll(async () => {
    failoverMs = await measureFailover();
  });

  it("a hung read ends at GITHUB_REQUEST_TIMEOUT_MS as 504 timeout, nothing written", async () => {
    const timeoutMs = bound(2000);
    await withServer({ GITHUB_REQUEST_TIMEOUT_MS: String(timeoutMs) }, async (server) => {
      const hang = server.fake.inject({
        match: { method: "POST", path: /^\/graphql$/ },
        hang: true,
      });
      const answer = await callJson(`${server.url}/api/failover/sonarr/promote`, {
        method: "POST",
      });
      hang.cancel();
      expect(answer.status, answer.text).toBe(504);
      const error = answer.body.error as { code: string; message: string; details: unknown };
      expect(error.code).toBe("timeout");
      expect(error.message).toMatch(new RegExp(`GitHub .* did not answer within ${timeoutMs} ms`));
      await untilFakeIdle(server);
      expect(failoverCommits(history(server.fake.dir), "sonarr")).toHaveLength(0);
      const again = await callJson(`${server.url}/api/failover/sonarr/promote`, { method: "POST" });
      expect(again.status, again.text).toBe(200);
      expect(again.body.outcome).toBe("applied");
    });
  });

  it("a failover past FAILOVER_BUDGET_MS answers 504 timeout and says where to look", async () => {
    const budgetMs = bound(1000);
    await withServer(
      { GITHUB_REQUEST_TIMEOUT_MS: "600000", FAILOVER_BUDGET_MS: String(budgetMs) },
      async (server) => {
        const hang = server.fake.inject({
          match: { graphqlMutation: "createCommitOnBranch" },
          hang: true,
        });
        const answer = await callJson(`${server.url}/api/failover/sonarr/promote`, {
          method: "POST",
        });
        expect(answer.status, answer.text).toBe(504);
        const error = answer.body.error as { code: string; message: string; details: unknown };
        expect(error.code).toBe("timeout");
        expect(error.message).toContain(`within ${budgetMs} ms (FAILOVER_BUDGET_MS)`);
        expect(error.message).toMatch(/may have landed.*GET \/api\/failover\/sonarr\/status/);
        expect(error.details).toMatchObject({ status: "/api/failover/sonarr/status" });
        // GitHub carries the held write out after all: the commit landed without an answer.
        const wrote = hang.remaining === 0;
        hang.cancel();
        await untilFakeIdle(server);
        const status = await callJson(`${server.url}/api/failover/sonarr/status`);
        expect(status.status).toBe(200);
        const again = await callJson(`${server.url}/api/failover/sonarr/promote`, {
          method: "POST",
        });
        expect(again.status, again.text).toBe(200);
        expect(again.body.outcome).toBe(wrote ? "no_op" : "applied");
        expect(failoverCommits(history(server.fake.dir), "sonarr")).toHaveLength(1);
      },
    );
  });
});
