import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { RequestHandler, Response } from "express";
import type { Logger } from "pino";
import { watchMountedFile } from "../config/config-store.js";
import { FailoverError } from "../domain/errors.js";
import { currentRequest } from "../observability/request-context.js";
import { isWebPath } from "../web/paths.js";

/** `name:token`: the name (recorded in commits as `token <name>`) must look like a name. */
const NAMED = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63}):(.+)$/;
const MIN_TOKEN_LENGTH = 16;

interface ApiToken {
  readonly name: string | undefined;
  readonly digest: Buffer;
}

/** Parses `token`, `name:token` entries; blank entries and `#` comment lines are skipped. */
export function parseTokenEntries(entries: readonly string[]): ApiToken[] {
  return entries
    .map((e) => e.trim())
    .filter((e) => e !== "" && !e.startsWith("#"))
    .map((entry) => {
      const named = NAMED.exec(entry);
      return { name: named?.[1], digest: sha256(named?.[2] ?? entry) };
    });
}

function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** What a web session keeps of the token it signed in with: its SHA-256, never the token. */
export function tokenDigest(token: string): Buffer {
  return sha256(token);
}

export interface ApiAuthOptions {
  /** FAILOVER_API_TOKENS: comma-separated, several at once for rotation. */
  readonly tokens?: string | undefined;
  /** FAILOVER_API_TOKENS_FILE: a mounted Secret, one token per line; re-read on change. */
  readonly tokensFile?: string | undefined;
  /** FAILOVER_AUTH_READS: GET endpoints need a token too (health and readiness never do). */
  readonly protectReads?: boolean;
  /** FAILOVER_AUTH_METRICS: `/metrics` needs a token too. */
  readonly protectMetrics?: boolean;
  /** The webhook path: GitHub signs those requests (HMAC); they never need a token. */
  readonly webhookPath?: string | undefined;
  readonly logger: Logger;
}

/**
 * Bearer-token authentication of the HTTP API. When any token is configured, every request that is not a GET or
 * HEAD needs `Authorization: Bearer <token>`, dry runs included; with `protectReads` the
 * GET endpoints too, except health and readiness. Tokens are compared as SHA-256 digests
 * with `timingSafeEqual`, against every configured token, so neither a token's length nor
 * which one matched shows in the timing.
 */
export class ApiAuth {
  #fromEnv: ApiToken[];
  #fromFile: ApiToken[] = [];
  #stopWatching: (() => void) | undefined;
  readonly #options: ApiAuthOptions;

  /**
   * Throws `config_invalid` (the process does not start) when FAILOVER_API_TOKENS or
   * FAILOVER_API_TOKENS_FILE is set but yields no token: a typo must not switch auth off.
   */
  constructor(options: ApiAuthOptions) {
    this.#options = options;
    const entries = (options.tokens ?? "").split(",");
    this.#fromEnv = parseTokenEntries(entries);
    if (options.tokens !== undefined && this.#fromEnv.length === 0) {
      throw new FailoverError(
        "config_invalid",
        "FAILOVER_API_TOKENS is set but holds no token (only commas, blanks or # comments): set at least one token, or unset FAILOVER_API_TOKENS to run without auth",
      );
    }
    warnShort(entries, "FAILOVER_API_TOKENS", options.logger);
    if (options.tokensFile !== undefined) {
      if (options.tokensFile === "") {
        throw new FailoverError(
          "config_invalid",
          "FAILOVER_API_TOKENS_FILE is set but empty: name the tokens file, or unset FAILOVER_API_TOKENS_FILE",
        );
      }
      this.#fromFile = this.#readFile(options.tokensFile, true);
      if (this.#fromFile.length === 0) {
        throw new FailoverError(
          "config_invalid",
          `FAILOVER_API_TOKENS_FILE ${options.tokensFile} holds no token (only blank lines or # comments): put at least one token in it`,
        );
      }
    }
  }

  /** Whether the API requires tokens at all: whenever a token variable is set. */
  get enabled(): boolean {
    return this.#options.tokens !== undefined || this.#options.tokensFile !== undefined;
  }

  get tokenCount(): number {
    return this.#fromEnv.length + this.#fromFile.length;
  }

  /** Re-reads the tokens file when its Secret is updated (kubelet `..data` swap). */
  watch(): void {
    const file = this.#options.tokensFile;
    if (file === undefined || this.#stopWatching !== undefined) return;
    this.#stopWatching = watchMountedFile(file, () => this.reloadFile(), {
      logger: this.#options.logger,
    });
  }

  reloadFile(): void {
    const file = this.#options.tokensFile;
    if (file === undefined) return;
    try {
      const tokens = this.#readFile(file, false);
      if (
        tokens.length !== this.#fromFile.length ||
        tokens.some((t, i) => !same(t, this.#fromFile[i]))
      ) {
        this.#fromFile = tokens;
        this.#options.logger.info({ file, tokens: tokens.length }, "API tokens file reloaded");
      }
    } catch (error) {
      // Fail closed: a Secret whose key was removed (the file is gone) must revoke its
      // tokens, not keep the last ones valid. They come back when the file can be read.
      const dropped = this.#fromFile.length;
      this.#fromFile = [];
      this.#options.logger.error(
        { file, dropped, error: error instanceof Error ? error.message : String(error) },
        "cannot re-read the API tokens file; its tokens are refused until it can be read",
      );
    }
  }

  close(): void {
    this.#stopWatching?.();
    this.#stopWatching = undefined;
  }

  /**
   * The configured token `presented` matches, compared in constant time; `undefined` when
   * none does. A token given without a name matches as `{ name: undefined }`.
   */
  verify(presented: string): { name: string | undefined } | undefined {
    const digest = sha256(presented);
    let match: { name: string | undefined } | undefined;
    for (const token of [...this.#fromEnv, ...this.#fromFile]) {
      // No early exit: every configured token is compared.
      if (timingSafeEqual(digest, token.digest) && match === undefined)
        match = { name: token.name };
    }
    return match;
  }

  /**
   * Whether a token with this name and digest (`tokenDigest`) is still configured: a web
   * session signed in with a token removed from the tokens file (or renamed) ends at once.
   */
  holds(name: string | undefined, digest: Buffer): boolean {
    let held = false;
    for (const token of [...this.#fromEnv, ...this.#fromFile]) {
      if (
        token.digest.length === digest.length &&
        timingSafeEqual(token.digest, digest) &&
        token.name === name
      )
        held = true;
    }
    return held;
  }

  /** Whether a request needs a token. */
  requiresToken(method: string, path: string): boolean {
    if (!this.enabled) return false;
    if (this.#options.webhookPath !== undefined && path === this.#options.webhookPath) return false;
    // The web page signs in with a token once and then checks its own session cookie.
    if (isWebPath(path)) return false;
    if (method !== "GET" && method !== "HEAD") return true;
    if (path === "/api/health" || path === "/api/ready") return false;
    if (path === "/metrics") return this.#options.protectMetrics === true;
    return this.#options.protectReads === true;
  }

  middleware(): RequestHandler {
    return (req, res, next) => {
      if (!this.requiresToken(req.method, req.path)) {
        next();
        return;
      }
      const header = req.get("authorization");
      if (header === undefined) {
        unauthorized(res, "missing Authorization: Bearer <token> header", undefined);
        return;
      }
      const match = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header);
      if (match?.[1] === undefined) {
        unauthorized(res, "the Authorization header must be Bearer <token>", "invalid_request");
        return;
      }
      const identity = this.verify(match[1]);
      if (identity === undefined) {
        unauthorized(res, "the API token is not valid", "invalid_token");
        return;
      }
      const context = currentRequest();
      if (context !== undefined && identity.name !== undefined) {
        context.requester = `token ${identity.name}`;
      }
      next();
    };
  }

  #readFile(file: string, atStart: boolean): ApiToken[] {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new FailoverError(
        "config_invalid",
        `cannot read FAILOVER_API_TOKENS_FILE ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        { cause: error },
      );
    }
    const lines = text.split(/\r?\n/);
    const tokens = parseTokenEntries(lines);
    if (atStart) warnShort(lines, "FAILOVER_API_TOKENS_FILE", this.#options.logger);
    if (tokens.length === 0 && !atStart) {
      this.#options.logger.error(
        { file },
        "the API tokens file holds no token: every request that needs one is refused",
      );
    }
    return tokens;
  }
}

function same(a: ApiToken, b: ApiToken | undefined): boolean {
  return b !== undefined && a.name === b.name && a.digest.equals(b.digest);
}

function warnShort(entries: readonly string[], source: string, logger: Logger): void {
  const short = entries
    .map((e) => e.trim())
    .filter((e) => e !== "" && !e.startsWith("#"))
    .map((e) => NAMED.exec(e)?.[2] ?? e)
    .filter((t) => t.length < MIN_TOKEN_LENGTH).length;
  if (short > 0) {
    logger.warn(
      { source, short },
      `API tokens shorter than ${MIN_TOKEN_LENGTH} characters are easy to guess; use e.g. openssl rand -hex 32`,
    );
  }
}

function unauthorized(res: Response, message: string, error: string | undefined): void {
  res.set(
    "WWW-Authenticate",
    `Bearer realm="failover-api"${error === undefined ? "" : `, error="${error}"`}`,
  );
  res.status(401).json({ error: { code: "unauthorized", message } });
}
