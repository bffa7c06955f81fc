import { describe, expect, it } from "vitest";
import type { FailoverContext } from "../../src/failover/context.js";
import { resolveNodeMode } from "../../src/failover/failover.js";

/** Only what resolveNodeMode reads: the services' configured modes and the PR port. */
function context(
  modes: Record<string, "urgent" | "pr" | undefined>,
  defaultMode: "urgent" | "pr" = "urgent",
  withPullRequests = true,
): FailoverContext {
  return {
    config: () => ({ modes: new Map(Object.entries(modes)) }),
    defaultMode,
    pullRequests: withPullRequests ? {} : undefined,
    repo: { description: "a local repository" },
  } as unknown as FailoverContext;
}

describe("the mode of a node-wide failover", () => {
  it("is pr when any service on the node is configured for PR review, whichever sorts first", () => {
    const ctx = context({ bazarr: undefined, sonarr: "pr" });
    expect(resolveNodeMode(ctx, ["bazarr", "sonarr"], undefined)).toBe("pr");
    expect(resolveNodeMode(ctx, ["sonarr", "bazarr"], undefined)).toBe("pr");
  });

  it("is pr when a service without a mode falls back to a pr default", () => {
    const ctx = context({ bazarr: "urgent", sonarr: undefined }, "pr");
    expect(resolveNodeMode(ctx, ["bazarr", "sonarr"], undefined)).toBe("pr");
  });

  it("is urgent when every service is urgent; the asked mode wins", () => {
    const ctx = context({ bazarr: undefined, sonarr: "urgent" });
    expect(resolveNodeMode(ctx, ["bazarr", "sonarr"], undefined)).toBe("urgent");
    expect(resolveNodeMode(context({ sonarr: "pr" }), ["sonarr"], "urgent")).toBe("urgent");
  });

  it("refuses pr without a PR port rather than committing a pr service straight to the branch", () => {
    const ctx = context({ bazarr: undefined, sonarr: "pr" }, "urgent", false);
    expect(() => resolveNodeMode(ctx, ["bazarr", "sonarr"], undefined)).toThrow(/PR mode needs/);
  });
});
