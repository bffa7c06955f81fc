import type { Logger } from "pino";

/**
 * Checks, at start and then periodically, that the GitHub credentials work and the GitOps
 * repository is reachable with them, so that `GET /api/ready` tells the truth: a bogus
 * private key, an App not installed on the repository, or a token without access is "not
 * ready" with the reason, instead of a first failover that fails with 502.
 *
 * The probe is one `GET /repos/{owner}/{repo}` through the runtime's own client: for an App
 * that is the installation lookup (a JWT signed with the key), an installation token, then
 * the repository, each of them remembered by the client as for a failover.
 *
 * A rejection (HTTP 401, 403 other than a rate limit, 404, or a configuration error) makes
 * the pod not ready until a check passes. A transient failure (a network error, 5xx, a rate
 * limit, a timeout) does so only before the first success: afterwards the pod stays ready
 * and reports `lastError`, so that a GitHub outage does not empty the Service of every
 * replica at once (the API would then answer nothing instead of a 502 that says why).
 */
export interface GitHubCheckOptions {
  /** Resolves when GitHub answered with the repository; throws otherwise. */
  readonly probe: () => Promise<unknown>;
  /** owner/name, for the messages. */
  readonly repository: string;
  /** Between checks while passing; 0: only at start. */
  readonly intervalMs: number;
  /** Between checks while failing (default: 30 s, or the interval when shorter). */
  readonly retryMs?: number;
  /** A check that takes longer fails as transient (default 15 s: Octokit's retries included). */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

export type GitHubCheckState =
  | { readonly result: "pending" }
  | { readonly result: "ok"; readonly at: string }
  | {
      readonly result: "rejected" | "unreachable";
      readonly at: string;
      readonly reason: string;
    };

export interface GitHubCheckBody {
  readonly repository: string;
  readonly result: GitHubCheckState["result"];
  readonly checkedAt?: string;
  readonly lastSuccessAt?: string;
  readonly reason?: string;
}

export class GitHubCheck {
  readonly #options: GitHubCheckOptions;
  #state: GitHubCheckState = { result: "pending" };
  #lastSuccessAt: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #first: Promise<void> | undefined;
  #started = false;
  #stopped = false;

  constructor(options: GitHubCheckOptions) {
    this.#options = options;
  }

  /** Whether start() was called: readiness ignores a check that never runs. */
  get started(): boolean {
    return this.#started;
  }

  get state(): GitHubCheckState {
    return this.#state;
  }

  /** Checks now, then keeps checking (the timer does not keep the process alive). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#first = this.checkNow();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Waits for the first check to finish, at most `ms`. */
  async settled(ms: number): Promise<void> {
    if (this.#first === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#first,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  /** One check (joins the one in progress), then the next is scheduled. */
  checkNow(): Promise<void> {
    this.#running ??= this.#check().finally(() => {
      this.#running = undefined;
      this.#schedule();
    });
    return this.#running;
  }

  /** Ready as far as GitHub goes, and the reason when not. */
  readiness(): { ok: boolean; reason?: string; body: GitHubCheckBody } {
    const state = this.#state;
    const body: GitHubCheckBody = {
      repository: this.#options.repository,
      result: state.result,
      ...(state.result === "pending" ? {} : { checkedAt: state.at }),
      ...(this.#lastSuccessAt === undefined ? {} : { lastSuccessAt: this.#lastSuccessAt }),
      ...("reason" in state ? { reason: state.reason } : {}),
    };
    if (state.result === "ok") return { ok: true, body };
    if (state.result === "pending") {
      return { ok: false, reason: "checking the GitHub credentials", body };
    }
    if (state.result === "unreachable" && this.#lastSuccessAt !== undefined) {
      return { ok: true, body };
    }
    return { ok: false, reason: `GitHub: ${state.reason}`, body };
  }

  async #check(): Promise<void> {
    const { probe, timeoutMs = 15_000, logger, repository } = this.#options;
    const before = this.#state.result;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        probe(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new CheckTimeout(`no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      const at = new Date().toISOString();
      this.#state = { result: "ok", at };
      this.#lastSuccessAt = at;
      if (before !== "ok") logger?.info({ repository }, "GitHub check passed");
    } catch (error) {
      const { result, reason } = classify(error, repository);
      this.#state = { result, at: new Date().toISOString(), reason };
      logger?.warn({ repository, result, reason }, "GitHub check failed");
    } finally {
      clearTimeout(timer);
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    const { intervalMs, retryMs } = this.#options;
    const failing = this.#state.result !== "ok";
    const delay = failing ? (retryMs ?? Math.min(30_000, intervalMs || 30_000)) : intervalMs;
    if (delay <= 0) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.checkNow(), delay);
    this.#timer.unref();
  }
}

class CheckTimeout extends Error {}

interface ErrorLike {
  readonly message?: string;
  readonly status?: number;
  readonly code?: string;
  readonly cause?: unknown;
}

/** Rejected (the configuration is wrong) or unreachable (try again), and why. */
function classify(
  error: unknown,
  repository: string,
): { result: "rejected" | "unreachable"; reason: string } {
  const chain: ErrorLike[] = [];
  for (let e: unknown = error; e !== null && typeof e === "object" && chain.length < 5; ) {
    chain.push(e as ErrorLike);
    e = (e as ErrorLike).cause;
  }
  const messages = [...new Set(chain.map((e) => e.message).filter((m) => m !== undefined))];
  const reason = messages.join(": ") || String(error);
  if (error instanceof CheckTimeout) return { result: "unreachable", reason };
  const status = chain.find((e) => typeof e.status === "number")?.status;
  const rateLimited = /rate limit/i.test(reason) || status === 429;
  if (status === 404 && !messages.some((m) => m.includes(repository))) {
    return {
      result: "rejected",
      reason: `${reason} (${repository} not found with these credentials: does the App's installation or the token include it?)`,
    };
  }
  if (
    chain[0]?.code === "config_invalid" ||
    status === 401 ||
    status === 404 ||
    (status === 403 && !rateLimited)
  ) {
    return { result: "rejected", reason };
  }
  return { result: "unreachable", reason };
}
