import { describe, expect, it } from "vitest";
import { toFailoverError } from "../../src/repo/github/errors.js";

const context = { action: "createCommitOnBranch", where: "github.com/acme/gitops" };
const httpError = (status: number, message: string) =>
  Object.assign(new Error(message), { status });

describe("toFailoverError", () => {
  it.each([
    [
      403,
      "You have exceeded a secondary rate limit",
      "upstream",
      /rate-limited .*try again in a minute/,
    ],
    [429, "API rate limit exceeded for installation", "upstream", /rate-limited/],
    [403, "Resource not accessible by integration", "forbidden", /refused \(403\)/],
    [404, "Not Found", "not_found", /404/],
    [401, "Bad credentials", "upstream", /credentials \(401\)/],
    [502, "Bad Gateway", "upstream", /failed with 502/],
  ])("%i %s -> %s", (status, message, code, text) => {
    const error = toFailoverError(httpError(status, message), context);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(text);
  });

  it("never puts a token into the message", () => {
    const error = toFailoverError(
      httpError(502, "fetch failed for https://x-access-token:ghs_secret123@github.com"),
      context,
    );
    expect(error.message).not.toContain("ghs_secret123");
  });
});
