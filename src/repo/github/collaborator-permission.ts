import { z } from "zod";
import { httpStatus, toFailoverError } from "./errors.js";
import type { RestClient } from "./rest-client.js";

const permissionResponse = z.object({
  permission: z.string(),
  role_name: z.string().optional(),
});

/**
 * The sender's role on the repository (admin, maintain, write, triage, read or none).
 * `role_name` distinguishes maintain and triage; `permission` is the older coarse field.
 * Every failure is a FailoverError (upstream, forbidden, timeout): never a raw Octokit error.
 */
export async function collaboratorRole(
  client: RestClient,
  repo: { readonly owner: string; readonly repo: string },
  username: string,
): Promise<string> {
  let data: unknown;
  try {
    data = (
      await client.request("GET /repos/{owner}/{repo}/collaborators/{username}/permission", {
        ...repo,
        username,
      })
    ).data;
  } catch (error) {
    // 404: not a collaborator (or the user does not exist): no permission at all.
    if (httpStatus(error) === 404) return "none";
    throw toFailoverError(error, {
      action: "collaborator permission lookup",
      where: `${repo.owner}/${repo.repo}`,
    });
  }
  const parsed = permissionResponse.safeParse(data);
  if (!parsed.success) {
    throw toFailoverError(new Error("unexpected answer to the permission lookup"), {
      action: "collaborator permission lookup",
      where: `${repo.owner}/${repo.repo}`,
    });
  }
  return parsed.data.role_name ?? parsed.data.permission;
}
