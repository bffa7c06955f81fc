import { describe, expect, it } from "vitest";
import { FailoverError } from "../../src/domain/errors.js";
import { withBudget } from "../../src/failover/deadline.js";
import { GitHubTimeoutError, toFailoverError } from "../../src/repo/github/errors.js";

const budget = () => new FailoverError("timeout", "the budget (FAILOVER_BUDGET_MS)");

describe("withBudget", () => {
  it("a GitHub call limited by the rest of the budget that times out first is the budget's timeout", async () => {
    // The call's own timer (set to what was left) can fire a moment before the budget's.
    const call = toFailoverError(new GitHubTimeoutError("GitHub POST /graphql", 1219, true), {
      action: "createCommitOnBranch",
      where: "acme/gitops",
    });
    await expect(
      withBudget(600_000, (bounded) => bounded(Promise.reject(call), budget)),
    ).rejects.toThrow("the budget (FAILOVER_BUDGET_MS)");
  });

  it("a call that hit its own GITHUB_REQUEST_TIMEOUT_MS keeps its own message", async () => {
    const call = toFailoverError(new GitHubTimeoutError("GitHub POST /graphql", 10_000), {
      action: "createCommitOnBranch",
      where: "acme/gitops",
    });
    await expect(
      withBudget(600_000, (bounded) => bounded(Promise.reject(call), budget)),
    ).rejects.toThrow(/GITHUB_REQUEST_TIMEOUT_MS/);
  });
});
