import type { Octokit } from "@octokit/core";
import { remainingBudgetMs } from "../../failover/deadline.js";
import { GitHubTimeoutError } from "./errors.js";
import { emitGitHubRequest as emit } from "./request-events.js";

// The project's own Octokit plugins, shared by both clients: Probot's (App mode,
// octokit-client.ts) and the plain @octokit/core one (token mode, token-octokit.ts). Nothing
// here imports Probot, so token mode never loads it.

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
 * Every GitHub call ends by a time: `requestTimeoutMs` (GITHUB_REQUEST_TIMEOUT_MS), or what is
 * left of the failover's budget if that is less. The fetch is aborted (AbortSignal) and the
 * call rejects with a GitHubTimeoutError, which the adapters treat as a possibly lost answer
 * and report as `timeout`. Registered first, so it sits inside pacing (a write's spacing and
 * a `retry-after` wait are not counted against one attempt) and outside the retry plugin
 * (a call and its retries share the time).
 */
export function requestTimeout(octokit: Octokit, octokitOptions: unknown) {
  const configured = (octokitOptions as { requestTimeoutMs?: number }).requestTimeoutMs;
  octokit.hook.wrap("request", async (request, options) => {
    const budget = remainingBudgetMs();
    const limit = Math.min(
      configured ?? Number.POSITIVE_INFINITY,
      budget ?? Number.POSITIVE_INFINITY,
    );
    if (!Number.isFinite(limit)) return request(options);
    const what = `GitHub ${String(options.method ?? "GET").toUpperCase()} ${String(options.url ?? "")}`;
    const ms = Math.max(0, Math.floor(limit));
    const byBudget = budget !== undefined && budget < (configured ?? Number.POSITIVE_INFINITY);
    if (ms <= 0) throw new GitHubTimeoutError(what, 0, byBudget);
    const controller = new AbortController();
    const given = (options.request as { signal?: AbortSignal } | undefined)?.signal;
    const signal =
      given === undefined ? controller.signal : AbortSignal.any([given, controller.signal]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new GitHubTimeoutError(what, ms, byBudget);
        controller.abort(error);
        reject(error);
      }, ms);
    });
    try {
      return await Promise.race([
        request({ ...options, request: { ...options.request, signal } }),
        timedOut,
      ]);
    } finally {
      clearTimeout(timer);
    }
  });
  return {};
}
