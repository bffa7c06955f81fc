import { type ErrorCode, FailoverError } from "../../domain/errors.js";

/** One entry of a GraphQL answer's `errors` (GitHub adds `type`, e.g. STALE_DATA, NOT_FOUND). */
export interface GraphqlErrorEntry {
  readonly type?: string;
  readonly message: string;
  readonly path?: readonly (string | number)[];
}

/**
 * The `errors` of a GraphqlResponseError (HTTP 200 with `errors`), recognised by shape so no
 * particular @octokit/graphql copy has to be imported.
 */
export function graphqlErrors(error: unknown): GraphqlErrorEntry[] | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { name, errors } = error as { name?: unknown; errors?: unknown };
  if (name !== "GraphqlResponseError" || !Array.isArray(errors)) return undefined;
  return errors.map((entry: unknown) => {
    const e = (entry ?? {}) as { type?: unknown; message?: unknown; path?: unknown };
    const out: { type?: string; message: string; path?: (string | number)[] } = {
      message: typeof e.message === "string" ? e.message : "unknown GraphQL error",
    };
    if (typeof e.type === "string") out.type = e.type;
    if (Array.isArray(e.path)) out.path = e.path as (string | number)[];
    return out;
  });
}

/** A GitHub call that did not answer within its time (repo/github/octokit-client.ts). */
export class GitHubTimeoutError extends Error {
  readonly timeoutMs: number;
  /** The call's limit was what was left of the failover's budget, not its own timeout. */
  readonly budget: boolean;
  constructor(what: string, timeoutMs: number, budget = false) {
    super(`${what} did not answer within ${timeoutMs} ms`);
    this.name = "GitHubTimeoutError";
    this.timeoutMs = timeoutMs;
    this.budget = budget;
  }
}

/** The GitHubTimeoutError behind an error (Octokit wraps a fetch abort reason as a cause). */
export function timeoutOf(error: unknown): GitHubTimeoutError | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 4; depth++) {
    if (e instanceof GitHubTimeoutError) return e;
    e = typeof e === "object" && e !== null ? (e as { cause?: unknown }).cause : undefined;
  }
  return undefined;
}

/** HTTP status of an Octokit RequestError (network failures come as 500), else undefined. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { status } = error as { status?: unknown };
  return typeof status === "number" ? status : undefined;
}

/** createCommitOnBranch's compare-and-swap failed: the branch is not at expectedHeadOid. */
export function isStaleData(error: unknown): boolean {
  return (
    graphqlErrors(error)?.some(
      (e) => e.type === "STALE_DATA" || /Expected branch to point to/i.test(e.message),
    ) ?? false
  );
}

/**
 * The request may have been carried out although its answer did not arrive intact: a network
 * failure or timeout (Octokit reports those as 500), a 5xx, or GitHub's generic internal error.
 */
export function answerMayBeLost(error: unknown): boolean {
  if (timeoutOf(error) !== undefined) return true;
  const errors = graphqlErrors(error);
  if (errors !== undefined) {
    return errors.some((e) => /Something went wrong while executing your query/i.test(e.message));
  }
  if (error instanceof FailoverError) return false;
  const status = httpStatus(error);
  return status === undefined || status >= 500;
}

/** Tokens never belong in a message: drop anything that looks like a credential. */
export function redact(text: string): string {
  return text
    .replace(/\b(gh[pousr]_|github_pat_)[A-Za-z0-9_]+/g, "$1[REDACTED]")
    .replace(/\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, "$1 [REDACTED]")
    .replace(/(https?:\/\/)[^/\s:@]+(:[^/\s@]*)?@/gi, "$1[REDACTED]@");
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return redact(line.length > 300 ? `${line.slice(0, 300)}…` : line);
}

const GRAPHQL_TYPE_CODES: Readonly<Record<string, ErrorCode>> = {
  NOT_FOUND: "not_found",
  FORBIDDEN: "forbidden",
  INSUFFICIENT_SCOPES: "forbidden",
};

/**
 * The one place a GitHub client error becomes a FailoverError: 403 → forbidden,
 * 404 → not_found, 401 / 5xx / network / anything else → upstream (a 401 means the app's
 * own credentials are bad, which the caller cannot fix). The original error stays the cause.
 */
export function toFailoverError(
  error: unknown,
  context: { readonly action: string; readonly where: string; readonly notFound?: string },
): FailoverError {
  if (error instanceof FailoverError) return error;
  const timeout = timeoutOf(error);
  if (timeout !== undefined) {
    return new FailoverError(
      "timeout",
      `GitHub ${context.action} on ${context.where} did not answer within ${timeout.timeoutMs} ms` +
        " (GITHUB_REQUEST_TIMEOUT_MS or the failover's budget)",
      {
        cause: error,
        // `budgetExhausted`: the failover's budget ran out (deadline.ts answers for it).
        details: {
          timeoutMs: timeout.timeoutMs,
          ...(timeout.budget ? { budgetExhausted: true } : {}),
        },
      },
    );
  }
  const errors = graphqlErrors(error);
  if (errors !== undefined) {
    const code =
      errors
        .map((e) => (e.type === undefined ? undefined : GRAPHQL_TYPE_CODES[e.type]))
        .find((c) => c !== undefined) ?? "upstream";
    const summary = errors
      .map((e) =>
        e.type === undefined ? firstLine(e.message) : `${e.type}: ${firstLine(e.message)}`,
      )
      .join("; ");
    const prefix =
      code === "not_found" && context.notFound !== undefined ? `${context.notFound}: ` : "";
    return new FailoverError(
      code,
      `${prefix}GitHub ${context.action} on ${context.where} failed: ${summary}`,
      {
        cause: error,
        details: { graphqlErrors: errors.map((e) => e.type ?? "unknown") },
      },
    );
  }
  const status = httpStatus(error);
  const detail = error instanceof Error ? firstLine(error.message) : firstLine(String(error));
  if (status === 404) {
    const what = context.notFound ?? `${context.where} not found (or the app cannot see it)`;
    return new FailoverError("not_found", `${what}: GitHub ${context.action} answered 404`, {
      cause: error,
      details: { status },
    });
  }
  if ((status === 403 || status === 429) && /rate limit/i.test(detail)) {
    // Not a permission problem: GitHub wants us to slow down. Retrying later is the fix.
    return new FailoverError(
      "upstream",
      `GitHub rate-limited ${context.action} on ${context.where} (${status}): try again in a minute`,
      { cause: error, details: { status, rateLimited: true } },
    );
  }
  if (status === 403) {
    return new FailoverError(
      "forbidden",
      `GitHub ${context.action} on ${context.where} was refused (403): ${detail}`,
      { cause: error, details: { status } },
    );
  }
  if (status === 401) {
    return new FailoverError(
      "upstream",
      `GitHub rejected the app's credentials (401) for ${context.action} on ${context.where}`,
      { cause: error, details: { status } },
    );
  }
  const what = status === undefined ? "failed" : `failed with ${status}`;
  return new FailoverError(
    "upstream",
    `GitHub ${context.action} on ${context.where} ${what}: ${detail}`,
    {
      cause: error,
      details: status === undefined ? {} : { status },
    },
  );
}
