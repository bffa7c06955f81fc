import { describe, expect, it } from "vitest";
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
 * until the test releases it; the configured times are small, nothing asserts on elapsed time.
 */
async function withServer(env: Record<string, string>, run: (s: InProcessServer) => Promise<void>) {
  const server = await startTokenServer({ GITHUB_RETRIES: "0", ...env });
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
  it("a hung read ends at GITHUB_REQUEST_TIMEOUT_MS as 504 timeout, nothing written", async () => {
    await withServer({ GITHUB_REQUEST_TIMEOUT_MS: "2000" }, async (server) => {
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
      expect(error.message).toMatch(/GitHub .* did not answer within 2000 ms/);
      await untilFakeIdle(server);
      expect(failoverCommits(history(server.fake.dir), "sonarr")).toHaveLength(0);
      const again = await callJson(`${server.url}/api/failover/sonarr/promote`, { method: "POST" });
      expect(again.status, again.text).toBe(200);
      expect(again.body.outcome).toBe("applied");
    });
  });

  it("a failover past FAILOVER_BUDGET_MS answers 504 timeout and says where to look", async () => {
    await withServer(
      { GITHUB_REQUEST_TIMEOUT_MS: "600000", FAILOVER_BUDGET_MS: "1000" },
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
        expect(error.message).toMatch(/within 1000 ms \(FAILOVER_BUDGET_MS\)/);
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
