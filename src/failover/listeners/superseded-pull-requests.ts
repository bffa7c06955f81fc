import { targetSide } from "../../domain/service.js";
import type { FailoverListener } from "../events.js";
import {
  closeSupersededPullRequest,
  closeSupersededPullRequests,
  type PullRequestSettings,
} from "../pull-request-flow.js";

/**
 * After an urgent commit: an open failover PR for a service it moved would, once merged,
 * move it again, possibly back. Close it, saying why. After the answer, because the failover
 * is in Git already and the cleanup is a GitHub listing and a write or two.
 */
export function supersededPullRequestsListener(settings: PullRequestSettings): FailoverListener {
  return async (event) => {
    if (event.type !== "committed" || event.pullRequest !== undefined) return;
    const to = targetSide(event.action);
    const [only] = event.services;
    if (event.node === undefined && only !== undefined && event.services.length === 1) {
      await closeSupersededPullRequest(
        settings,
        only.service,
        event.branch,
        `${event.branch} now has ${only.service} on ${to} (${event.action})`,
        event.openFailoverPullRequests,
      );
      return;
    }
    // One listing of the open PRs for all the services of a node-wide commit.
    await closeSupersededPullRequests(
      settings,
      event.services.map((s) => s.service),
      event.branch,
      (service) =>
        `${event.branch} now has ${service} on ${to} (node ${event.node ?? "?"} ${event.action})`,
      event.openFailoverPullRequests,
    );
  };
}
