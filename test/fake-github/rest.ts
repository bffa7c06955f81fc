import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import { createRequire } from "node:module";
import type { FakeGitStore } from "./git-store.js";

/** What a route handler sees of the fake: the repository it serves and per-fake state. */
export interface FakeContext {
  readonly owner: string;
  readonly repo: string;
  readonly store: FakeGitStore;
  /** Web base, e.g. http://127.0.0.1:PORT (html_url, commit URLs). */
  readonly webUrl: string;
  /** REST base, e.g. http://127.0.0.1:PORT/api/v3 (`url` fields). */
  readonly apiUrl: string;
  /** State a route module keeps per fake instance (pull requests, comments, ...). */
  state<T>(key: string, init: () => T): T;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RestRequest {
  readonly method: HttpMethod;
  /** Template parameters, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Parsed JSON body (undefined when there was none). */
  readonly body: unknown;
  readonly headers: IncomingHttpHeaders;
  readonly fake: FakeContext;
}

export interface RestResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * One REST operation. Every request needs an `authorization` header (any token), except
 * paths under /app/ (JWT routes: their handlers check the header themselves).
 */
export interface RestRoute {
  readonly method: HttpMethod;
  /** Exactly as in GitHub's OpenAPI description, e.g. "/repos/{owner}/{repo}/pulls/{pull_number}". */
  readonly template: string;
  /**
   * Parameters that may span several path segments (e.g. `ref` in `/git/ref/{ref}`, which
   * clients send either as "heads%2Fmain" or "heads/main"). Others match one segment.
   */
  readonly multiSegment?: readonly string[];
  handler(request: RestRequest): RestResponse | Promise<RestResponse>;
}

/** Thrown by handlers for GitHub-style error answers. */
export class HttpError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;

  constructor(status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.body = {
      message,
      documentation_url: "https://docs.github.com/rest",
      status: String(status),
      ...extra,
    };
  }
}

export const notFound = (): HttpError => new HttpError(404, "Not Found");

/** The owner/repo of a request must be the fake's repository (case-insensitive, like GitHub). */
export function requireRepo(request: RestRequest): void {
  const { owner, repo } = request.params;
  if (
    owner?.toLowerCase() !== request.fake.owner.toLowerCase() ||
    repo?.toLowerCase() !== request.fake.repo.toLowerCase()
  ) {
    throw notFound();
  }
}

/**
 * A GET answer with an `ETag`, or `304 Not Modified` (no body, the same ETag) when the
 * request's `If-None-Match` names it, as GitHub does for conditional requests. The ETag is
 * weak (`W/"..."`, as GitHub's) and depends on the token as well as the body: GitHub's ETags
 * are per token (github/docs#34689), so a renewed installation token gets a 200 first.
 */
export function conditionalAnswer(request: RestRequest, body: unknown): RestResponse {
  const etag = `W/"${createHash("sha256")
    .update(`${request.headers.authorization ?? ""}\n${JSON.stringify(body)}`)
    .digest("hex")
    .slice(0, 32)}"`;
  const header = request.headers["if-none-match"];
  const asked = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .filter((tag) => tag !== "");
  // Weak comparison (RFC 9110 13.1.2): W/"x" matches "x"; "*" matches any current answer.
  if (asked.some((tag) => tag === "*" || tag === etag.replace(/^W\//, ""))) {
    return { status: 304, headers: { etag } };
  }
  return { status: 200, body, headers: { etag } };
}

interface CompiledRoute {
  readonly route: RestRoute;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

export interface RouteMatch {
  readonly route: RestRoute;
  readonly params: Record<string, string>;
}

/** Method + path template → handler, matched against the still percent-encoded path. */
export class RestRouter {
  readonly #routes: CompiledRoute[] = [];

  constructor(routes: readonly RestRoute[] = []) {
    for (const route of routes) this.add(route);
  }

  get routes(): readonly RestRoute[] {
    return this.#routes.map((r) => r.route);
  }

  add(route: RestRoute): void {
    const names: string[] = [];
    const source = route.template
      .split(/(\{[^}]+\})/)
      .map((part) => {
        const name = /^\{([^}]+)\}$/.exec(part)?.[1];
        if (name === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        names.push(name);
        return route.multiSegment?.includes(name) === true ? "(.+)" : "([^/]+)";
      })
      .join("");
    this.#routes.push({ route, pattern: new RegExp(`^${source}/?$`), names });
  }

  match(method: string, rawPath: string): RouteMatch | undefined {
    for (const { route, pattern, names } of this.#routes) {
      if (route.method !== method) continue;
      const m = pattern.exec(rawPath);
      if (m === null) continue;
      const params: Record<string, string> = {};
      try {
        names.forEach((name, i) => {
          params[name] = decodeURIComponent(m[i + 1] ?? "");
        });
      } catch {
        continue; // malformed percent-encoding
      }
      return { route, params };
    }
    return undefined;
  }
}

/** On globalThis like the GraphQL schema (graphql.ts): parsing the 13 MB description once. */
const OPERATIONS = Symbol.for("failover-api.fake-github.rest-operations");

/** "GET /repos/{owner}/{repo}" for every operation in GitHub's official REST description. */
export function gitHubRestOperations(): ReadonlySet<string> {
  const cache = globalThis as { [OPERATIONS]?: ReadonlySet<string> };
  if (cache[OPERATIONS] === undefined) {
    const require = createRequire(import.meta.url);
    const file = require.resolve("@octokit/openapi/generated/api.github.com.json");
    const spec = JSON.parse(readFileSync(file, "utf8")) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const ops = new Set<string>();
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const method of Object.keys(item)) ops.add(`${method.toUpperCase()} ${path}`);
    }
    cache[OPERATIONS] = ops;
  }
  return cache[OPERATIONS];
}

/** Throws unless every route is an operation of api.github.com: the fake invents nothing. */
export function assertRoutesExistOnGitHub(routes: readonly RestRoute[]): void {
  const ops = gitHubRestOperations();
  const invented = routes.filter((r) => !ops.has(`${r.method} ${r.template}`));
  if (invented.length > 0) {
    throw new Error(
      `fake GitHub routes not in @octokit/openapi api.github.com.json: ${invented
        .map((r) => `${r.method} ${r.template}`)
        .join(", ")}`,
    );
  }
}
