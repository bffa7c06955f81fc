import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Request, Response } from "express";

export const SESSION_COOKIE = "failover_session";
const TTL_MS = 12 * 60 * 60 * 1000;
/** Bounded memory: past this, the oldest session is forgotten (that browser signs in again). */
const MAX_SESSIONS = 1000;

export interface WebSession {
  /** The name of the API token signed in with (`name:token`), recorded as `token <name>`. */
  readonly tokenName: string | undefined;
  /** Whether a token was presented (false in the demo without tokens). */
  readonly signedIn: boolean;
  /** Sent back with every write (a header or a form field): a cross-site form cannot know it. */
  readonly csrf: string;
  readonly expiresAt: number;
  /** The SHA-256 of the token signed in with (never the token): checked on every request. */
  readonly tokenDigest: Buffer | undefined;
}

export interface WebSessionsOptions {
  readonly now?: () => number;
  /**
   * Whether the token a session signed in with (its name and SHA-256) is still configured;
   * a session whose token was revoked is forgotten, and the page asks to sign in again.
   */
  readonly tokenHeld?: (name: string | undefined, digest: Buffer) => boolean;
}

/**
 * The page's sessions, in this process's memory: a second replica does not know them, and a
 * restart signs everybody out (sign in again with the token). The cookie holds only a random
 * id; the session keeps the token's SHA-256 (never the token) so that removing the token from
 * FAILOVER_API_TOKENS_FILE ends the sessions signed in with it at their next request.
 */
export class WebSessions {
  readonly #sessions = new Map<string, WebSession>();
  readonly #now: () => number;
  readonly #tokenHeld: ((name: string | undefined, digest: Buffer) => boolean) | undefined;

  constructor(options: WebSessionsOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#tokenHeld = options.tokenHeld;
  }

  /** `tokenDigest` is required for a signed-in session: without it, it could not be revoked. */
  create(
    res: Response,
    req: Request,
    signIn: { readonly tokenName: string | undefined; readonly tokenDigest: Buffer } | undefined,
  ): WebSession {
    const id = randomBytes(32).toString("base64url");
    const session: WebSession = {
      tokenName: signIn?.tokenName,
      signedIn: signIn !== undefined,
      csrf: randomBytes(32).toString("base64url"),
      expiresAt: this.#now() + TTL_MS,
      tokenDigest: signIn?.tokenDigest,
    };
    if (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    this.#sessions.set(id, session);
    res.cookie(SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: "strict",
      // Behind a TLS-terminating ingress the hop to us is plain HTTP (`trust proxy` is off,
      // so req.secure is false): the browser's side is HTTPS when the proxy says so. A
      // spoofed header can only make the cookie stricter.
      secure: req.secure || req.get("x-forwarded-proto")?.split(",")[0]?.trim() === "https",
      path: "/",
      maxAge: TTL_MS,
    });
    return session;
  }

  /** The request's live session, if its cookie names one. */
  find(req: Request): WebSession | undefined {
    const id = cookieValue(req.get("cookie"), SESSION_COOKIE);
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.#now() || this.#revoked(session)) {
      this.#sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /** Fails closed: a signed-in session whose token cannot be checked counts as revoked. */
  #revoked(session: WebSession): boolean {
    if (!session.signedIn) return false;
    if (session.tokenDigest === undefined || this.#tokenHeld === undefined) return true;
    return !this.#tokenHeld(session.tokenName, session.tokenDigest);
  }

  end(req: Request, res: Response): void {
    const id = cookieValue(req.get("cookie"), SESSION_COOKIE);
    if (id !== undefined) this.#sessions.delete(id);
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: "strict", path: "/" });
  }
}

/** Whether `presented` is the session's CSRF token, compared in constant time. */
export function csrfMatches(session: WebSession, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A second line of defence for writes: a browser names the page that sent a request in
 * `Origin`; one from another site is refused even before the CSRF token is looked at (the
 * API's own rule, src/http/cross-site.ts).
 */
export { sameOrigin } from "../http/cross-site.js";

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) {
      const value = rest.join("=");
      return /^[A-Za-z0-9_-]{1,100}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}
