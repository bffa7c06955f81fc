/**
 * Moved to src/repo/github/octokit-client.ts (an adapter, not the Probot transport). This
 * re-export remains only for test/repo/github-change-requests.nock.test.ts, owned by another
 * session; delete it once that test imports from the new place.
 */
export { failoverOctokit } from "../repo/github/octokit-client.js";
