import { z } from "zod";
import type { RestClient } from "./rest-client.js";

const permissionResponse = z.object({
  permission: z.string(),
  role_name: z.string().optional(),
});

/**
 * The sender's role on the repository (admin, maintain, write, triage, read or none).
 * `role_name` distinguishes maintain and triage; `permission` is the older coarse field.
 */
export async function collaboratorRole(
  client: RestClient,
  repo: { owner: string; repo: string },
  username: string,
): Promise<string> {
  try {
    const response = await client.request(
      "GET /repos/{owner}/{repo}/collaborators/{username}/permission",
      { ...repo, username },
    );
    const data = permissionResponse.parse(response.data);
    return data.role_name ?? data.permission;
  } catch (error) {
    // 404: not a collaborator (or the user does not exist): no permission at all.
    if (typeof error === "object" && error !== null && "status" in error && error.status === 404) {
      return "none";
    }
    throw error;
  }
}
