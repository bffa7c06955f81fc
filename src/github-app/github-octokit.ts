import { ProbotOctokit } from "probot";
import { type PacingOptions, pacing } from "./octokit-pacing.js";

/**
 * Probot's Octokit with GitHub's pacing done by `pacing` instead of the throttling plugin
 * (see octokit-pacing.ts). The retry plugin stays: it retries 5xx, also for writes, which
 * is why every write path checks whether a "failed" write landed before writing again.
 */
export function failoverOctokit(options: { pacing?: PacingOptions } = {}): typeof ProbotOctokit {
  const Plugged = ProbotOctokit.plugin(pacing).defaults({
    throttle: { enabled: false },
    pacing: options.pacing,
  });
  // One trust boundary: the plugged class is a ProbotOctokit with one more hook.
  return Plugged as unknown as typeof ProbotOctokit;
}
