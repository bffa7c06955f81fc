import { Octokit } from "@octokit/core";
import { retry } from "@octokit/plugin-retry";
import nodeFetch from "node-fetch";
import { type PacingOptions, pacing } from "./octokit-pacing.js";
import { requestObserver, requestTimeout } from "./octokit-plugins.js";

/**
 * One debug line per GitHub call, as Probot's request logging writes in App mode, without
 * the request body (a commit's body holds whole files). Registered after the retry plugin:
 * one line per call as the caller sees it, not per attempt.
 */
export function requestLogging(octokit: Octokit) {
  octokit.hook.after("request", (response, options) => {
    const { method, url } = octokit.request.endpoint.parse(options);
    octokit.log.debug(`GitHub request: ${method} ${url} - ${response.status}`);
  });
  octokit.hook.error("request", (error, options) => {
    if ("status" in error) {
      const { method, url } = octokit.request.endpoint.parse(options);
      octokit.log.debug(`GitHub request: ${method} ${url} - ${String(error.status)}`);
    }
    throw error;
  });
  return {};
}

/**
 * Token mode's Octokit (GITHUB_TOKEN, no App): @octokit/core with the retry plugin and the
 * project's plugins, in the order Probot's Octokit has them in App mode (octokit-client.ts):
 * retry innermost, then the timeout (a call and its retries share the time), pacing, and the
 * request observer outermost. No webhook can arrive without an App, so nothing of Probot
 * (its webhooks, REST endpoint methods, pagination, throttling, App auth) is loaded here;
 * the adapters call only `request` and `graphql` (client.ts), which @octokit/core has. Its
 * HTTP is node-fetch (on node:http, which the server loads anyway), not the global fetch:
 * undici is never loaded either. Its first call compiles undici and its WebAssembly HTTP
 * parser, 10 to 15 MB of a token-mode server's idle memory (docs/benchmarks.md).
 */
export function tokenOctokit(
  options: { pacing?: PacingOptions; retries?: number; requestTimeoutMs?: number } = {},
) {
  return Octokit.plugin(retry, requestLogging, requestTimeout, pacing, requestObserver).defaults(
    (
      instance: Record<string, unknown> & {
        retry?: Record<string, unknown>;
        request?: Record<string, unknown>;
      },
    ) => ({
      ...instance,
      // One trust boundary: node-fetch's Response is what @octokit/request reads of fetch's.
      request: { fetch: nodeFetch as unknown as typeof fetch, ...instance.request },
      pacing: options.pacing,
      requestTimeoutMs: options.requestTimeoutMs,
      ...(options.retries === undefined
        ? {}
        : { retry: { ...instance.retry, retries: options.retries } }),
    }),
  );
}
