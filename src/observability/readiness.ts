import type { RequestHandler } from "express";
import type { ConfigStatus } from "../config/config-store.js";
import type { GitHubCheck, GitHubCheckBody } from "./github-check.js";

export interface ReadinessBody {
  readonly status: "ready" | "not_ready";
  readonly reason?: string;
  readonly config?: {
    readonly source: string;
    readonly loadedAt: string;
    readonly lastError?: { readonly message: string; readonly at: string };
  };
  readonly backend: string;
  /** GitHub mode: the last check of the credentials and the repository (github-check.ts). */
  readonly github?: GitHubCheckBody;
}

/**
 * `GET /api/ready`: 200 once a services config is loaded (a reload that failed keeps it
 * ready, serving the last good config, with `lastError`), 503 before and while shutting
 * down, so Kubernetes stops sending traffic before the process stops accepting it. In
 * GitHub mode, once the GitHub check runs, also 503 while it fails (github-check.ts).
 */
export class Readiness {
  #draining = false;
  readonly #config: () => ConfigStatus | undefined;
  readonly #backend: string;
  readonly #github: GitHubCheck | undefined;

  constructor(config: () => ConfigStatus | undefined, backend: string, github?: GitHubCheck) {
    this.#config = config;
    this.#backend = backend;
    this.#github = github;
  }

  get draining(): boolean {
    return this.#draining;
  }

  drain(): void {
    this.#draining = true;
  }

  check(): { ok: boolean; body: ReadinessBody } {
    const status = this.#config();
    const config =
      status === undefined
        ? undefined
        : {
            source: status.source,
            loadedAt: status.loadedAt,
            ...(status.lastError === undefined ? {} : { lastError: status.lastError }),
          };
    const github = this.#github?.started === true ? this.#github.readiness() : undefined;
    const base = {
      ...(config === undefined ? {} : { config }),
      backend: this.#backend,
      ...(github === undefined ? {} : { github: github.body }),
    };
    if (this.#draining) {
      return { ok: false, body: { status: "not_ready", reason: "shutting down", ...base } };
    }
    if (status === undefined || !status.loaded) {
      return { ok: false, body: { status: "not_ready", reason: "config not loaded", ...base } };
    }
    if (github !== undefined && !github.ok) {
      const reason = github.reason ?? "GitHub check failed";
      return { ok: false, body: { status: "not_ready", reason, ...base } };
    }
    return { ok: true, body: { status: "ready", ...base } };
  }

  handler(): RequestHandler {
    return async (_req, res) => {
      // Right after the start, wait a little for the first GitHub check rather than answer
      // "checking" (the probe's timeout is 3 s in deploy/deployment.yaml).
      if (this.#github?.started === true && this.#github.state.result === "pending") {
        await this.#github.settled(2000);
      }
      const { ok, body } = this.check();
      res.set("Cache-Control", "no-store");
      res.status(ok ? 200 : 503).json(body);
    };
  }
}
