import { ProbotOctokit } from "probot";
import { type PacingOptions, pacing } from "./octokit-pacing.js";
import { requestObserver, requestTimeout } from "./octokit-plugins.js";

/**
 * App mode's Octokit (token mode has its own without Probot: token-octokit.ts): Probot's,
 * with GitHub's pacing done by `pacing` instead of the throttling plugin (see octokit-pacing.ts). The retry plugin stays: it retries 5xx, also for writes, which
 * is why every write path checks whether a "failed" write landed before writing again.
 */
export function failoverOctokit(
  options: { pacing?: PacingOptions; retries?: number; requestTimeoutMs?: number } = {},
): typeof ProbotOctokit {
  // A function, not an object: Probot passes its own `throttle` options, which an object
  // default would be shallow-merged under (and throttling silently stay on).
  const Plugged = ProbotOctokit.plugin(requestTimeout, pacing, requestObserver).defaults(
    (
      instance: Record<string, unknown> & {
        throttle?: Record<string, unknown>;
        retry?: Record<string, unknown>;
        auth?: unknown;
        baseUrl?: unknown;
      },
    ) => ({
      ...instance,
      ...authOnBaseUrl(instance.auth, instance.baseUrl),
      throttle: { ...instance.throttle, enabled: false },
      pacing: options.pacing,
      requestTimeoutMs: options.requestTimeoutMs,
      ...(options.retries === undefined
        ? {}
        : { retry: { ...instance.retry, retries: options.retries } }),
    }),
  );
  // One trust boundary: the plugged class is a ProbotOctokit with one more hook.
  return Plugged as unknown as typeof ProbotOctokit;
}

/**
 * Probot gives the App auth strategy a plain `request` without the base URL; its own calls
 * (minting an installation token outside a request, as `auth({ refresh: true })` does when a
 * token was revoked) would then go to api.github.com even on GitHub Enterprise.
 */
function authOnBaseUrl(auth: unknown, baseUrl: unknown): { auth?: unknown } {
  if (typeof auth !== "object" || auth === null || typeof baseUrl !== "string") return {};
  const request = (auth as { request?: { defaults?: (o: object) => unknown } }).request;
  if (typeof request?.defaults !== "function") return {};
  return { auth: { ...auth, request: request.defaults({ baseUrl }) } };
}
