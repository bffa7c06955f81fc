import type { Octokit } from "@octokit/core";
import { ProbotOctokit } from "probot";
import { type PacingOptions, pacing } from "./octokit-pacing.js";

/** One request to GitHub, as metrics see it: no URL, no token, no body. */
export interface GitHubRequestEvent {
  readonly method: string;
  /** The HTTP status, or `network` when no answer came. */
  readonly status: string;
  readonly failed: boolean;
}

const requestListeners = new Set<(event: GitHubRequestEvent) => void>();

/** Observes every GitHub API request of every client built here; returns the detach function. */
export function onGitHubRequest(listener: (event: GitHubRequestEvent) => void): () => void {
  requestListeners.add(listener);
  return () => requestListeners.delete(listener);
}

function emit(event: GitHubRequestEvent): void {
  for (const listener of requestListeners) {
    try {
      listener(event);
    } catch {
      // an observer never affects a request
    }
  }
}

/**
 * The Octokit hook behind `onGitHubRequest`. Registered after the retry plugin, so it wraps
 * it: it sees each request as the caller does, after retries.
 */
export function requestObserver(octokit: Octokit) {
  octokit.hook.wrap("request", async (request, options) => {
    const method = String(options.method ?? "GET").toUpperCase();
    try {
      const response = await request(options);
      emit({ method, status: String(response.status), failed: false });
      return response;
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      emit({
        method,
        status: typeof status === "number" && status > 0 ? String(status) : "network",
        failed: typeof status !== "number" || status === 0 || status >= 400,
      });
      throw error;
    }
  });
  return {};
}

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
  const Plugged = ProbotOctokit.plugin(pacing, requestObserver).defaults(
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
