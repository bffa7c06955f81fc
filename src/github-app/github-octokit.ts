import { ProbotOctokit } from "probot";
import { type PacingOptions, pacing } from "./octokit-pacing.js";

/**
 * Probot's Octokit with GitHub's pacing done by `pacing` instead of the throttling plugin
 * (see octokit-pacing.ts). The retry plugin stays: it retries 5xx, also for writes, which
 * is why every write path checks whether a "failed" write landed before writing again.
 */
export function failoverOctokit(
  options: { pacing?: PacingOptions; retries?: number } = {},
): typeof ProbotOctokit {
  // A function, not an object: Probot passes its own `throttle` options, which an object
  // default would be shallow-merged under (and throttling silently stay on).
  const Plugged = ProbotOctokit.plugin(pacing).defaults(
    (
      instance: Record<string, unknown> & {
        throttle?: Record<string, unknown>;
        retry?: Record<string, unknown>;
      },
    ) => ({
      ...instance,
      throttle: { ...instance.throttle, enabled: false },
      pacing: options.pacing,
      ...(options.retries === undefined
        ? {}
        : { retry: { ...instance.retry, retries: options.retries } }),
    }),
  );
  // One trust boundary: the plugged class is a ProbotOctokit with one more hook.
  return Plugged as unknown as typeof ProbotOctokit;
}
