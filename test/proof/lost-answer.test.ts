import { describe, expect, it } from "vitest";
import { deploymentsState } from "../fake-github/routes/deployments.js";
import {
  callJson,
  failoverCommits,
  history,
  isLinear,
  SONARR_PATH,
  serviceFile,
  sideOf,
  startTokenServer,
} from "./fixture.js";

/**
 * A write that landed and lost its answer, with someone else's commit landing on top before we
 * look: the failover is in Git, so the answer must be `applied` with our commit (and one
 * successful Deployment), exactly as without the fault. It used to be `no_op` (re-planned
 * against a head that already had it) or a 502, with no Deployment.
 */
describe("lost answer, then a foreign commit on top", () => {
  for (const retries of ["1", "0"]) {
    const via = retries === "1" ? "the retry plugin's resend gets STALE_DATA" : "no resend";
    it(`recognises our own commit below the head (${via})`, { timeout: 60_000 }, async () => {
      const server = await startTokenServer({ GITHUB_RETRIES: retries });
      try {
        await callJson(`${server.url}/api/failover/sonarr/status`);
        const { fake } = server;
        fake.inject({
          match: { graphqlMutation: "createCommitOnBranch" },
          landThenFail: { status: 502 },
          afterLanding: async () => {
            const { head } = await fake.repo.read("main", []);
            await fake.repo.commit({
              branch: "main",
              expectedHead: head,
              message: "docs: someone else's commit",
              changes: [{ path: "NOTES.md", text: "pushed right after the failover\n" }],
            });
          },
        });
        const answer = await callJson(`${server.url}/api/failover/sonarr/promote`, {
          method: "POST",
        });
        const log = history(fake.dir);
        const ours = failoverCommits(log, "sonarr");
        expect(isLinear(log)).toBe(true);
        expect(ours).toHaveLength(1);
        expect(log.at(-1)?.message).toMatch(/^docs: someone else's commit/);
        expect(answer.status, answer.text).toBe(200);
        expect(answer.body.outcome).toBe("applied");
        expect((answer.body.commit as { sha?: string }).sha).toBe(ours[0]?.sha);
        const text = (await fake.repo.read("main", [SONARR_PATH])).files.get(SONARR_PATH) ?? "";
        expect(sideOf(fake.dir, serviceFile("sonarr", SONARR_PATH, primaryOf(text)))).toBe(
          "backup",
        );
        // The Deployment is written after the answer, by the audit listener.
        await server.idle();
        const deployments = deploymentsState({ fake: fake.context });
        expect(deployments).toHaveLength(1);
        expect(deployments[0]?.statuses.map((s) => s.state)).toEqual(["in_progress"]);
      } finally {
        await server.close();
      }
    });
  }
});

/** The primary text back from the backup one (the fixture's oracle works the other way). */
function primaryOf(backup: string): string {
  return backup
    .replace("        role: backup\n", "        role: primary\n")
    .replace("claimName: pvc-sonarr-backup\n", "claimName: pvc-sonarr\n");
}
