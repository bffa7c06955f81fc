import type { RequestHandler } from "express";
import type { ConfigStatus } from "../config/config-store.js";

export interface ReadinessBody {
  readonly status: "ready" | "not_ready";
  readonly reason?: string;
  readonly config?: {
    readonly source: string;
    readonly loadedAt: string;
    readonly lastError?: { readonly message: string; readonly at: string };
  };
  readonly backend: string;
}

/**
 * `GET /api/ready`: 200 once a services config is loaded (a reload that failed keeps it
 * ready, serving the last good config, with `lastError`), 503 before and while shutting
 * down, so Kubernetes stops sending traffic before the process stops accepting it.
 */
export class Readiness {
  #draining = false;
  readonly #config: () => ConfigStatus | undefined;
  readonly #backend: string;

  constructor(config: () => ConfigStatus | undefined, backend: string) {
    this.#config = config;
    this.#backend = backend;
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
    const base = { ...(config === undefined ? {} : { config }), backend: this.#backend };
    if (this.#draining) {
      return { ok: false, body: { status: "not_ready", reason: "shutting down", ...base } };
    }
    if (status === undefined || !status.loaded) {
      return { ok: false, body: { status: "not_ready", reason: "config not loaded", ...base } };
    }
    return { ok: true, body: { status: "ready", ...base } };
  }

  handler(): RequestHandler {
    return (_req, res) => {
      const { ok, body } = this.check();
      res.set("Cache-Control", "no-store");
      res.status(ok ? 200 : 503).json(body);
    };
  }
}
