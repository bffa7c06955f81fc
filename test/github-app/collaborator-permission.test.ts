import { describe, expect, it } from "vitest";
import { FailoverError } from "../../src/domain/errors.js";
import { collaboratorRole } from "../../src/repo/github/collaborator-permission.js";
import type { RestClient } from "../../src/repo/github/rest-client.js";

const repo = { owner: "acme", repo: "gitops" };
const answering = (answer: () => Promise<{ data: unknown }>): RestClient => ({
  request: () => answer(),
});
/** An Octokit RequestError as the client rejects with: a status and a message. */
const requestError = (status: number, message: string) =>
  Object.assign(new Error(message), { name: "HttpError", status });

describe("collaboratorRole: the permission lookup ChatOps authorises with", () => {
  it("reads role_name first, then the coarse permission", async () => {
    const maintain = answering(async () => ({
      data: { permission: "write", role_name: "maintain" },
    }));
    expect(await collaboratorRole(maintain, repo, "carol")).toBe("maintain");
    const write = answering(async () => ({ data: { permission: "write" } }));
    expect(await collaboratorRole(write, repo, "alice")).toBe("write");
  });

  it("a 404 is no permission at all", async () => {
    const none = answering(() => Promise.reject(requestError(404, "Not Found")));
    expect(await collaboratorRole(none, repo, "mallory")).toBe("none");
  });

  it.each([
    [requestError(500, "Server Error"), "upstream"],
    [requestError(403, "Resource not accessible by integration"), "forbidden"],
    [new TypeError("fetch failed"), "upstream"],
  ])("every other failure is a FailoverError, never the raw error (%s)", async (error, code) => {
    const failing = answering(() => Promise.reject(error));
    const thrown = await collaboratorRole(failing, repo, "alice").catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(FailoverError);
    expect(thrown).toMatchObject({ code, cause: error });
  });

  it("an answer of the wrong shape is upstream too", async () => {
    const odd = answering(async () => ({ data: { role: 3 } }));
    await expect(collaboratorRole(odd, repo, "alice")).rejects.toMatchObject({ code: "upstream" });
  });
});
