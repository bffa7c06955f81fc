import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LocalGitRepo } from "../../src/repo/local/local-git-repo.js";
import { copyOfRepo } from "../helpers/repo-template.js";
import { FakeGitStore } from "./git-store.js";
import { handleGraphql, summarizeGraphql } from "./graphql.js";
import {
  assertRoutesExistOnGitHub,
  type FakeContext,
  HttpError,
  type HttpMethod,
  type RestRoute,
  RestRouter,
} from "./rest.js";
import { DEFAULT_ROUTES } from "./routes/index.js";

export interface FakeGitHubOptions {
  /** The repository's files, committed as the one initial commit on `branch`. */
  readonly files: Record<string, string>;
  readonly owner?: string;
  readonly repo?: string;
  /** The default branch (default "main"). */
  readonly branch?: string;
  /** Routes in addition to DEFAULT_ROUTES (checked against GitHub's OpenAPI description too). */
  readonly routes?: readonly RestRoute[];
}

export interface LoggedRequest {
  readonly method: string;
  /** Path without the query and without the /api/v3 prefix; GraphQL is always "/graphql". */
  readonly path: string;
  /** The path as received (with /api/v3 or /api/graphql), still without the query. */
  readonly rawPath: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** GraphQL only: the operation's name, type and root fields (when the document parses). */
  readonly operationName?: string;
  readonly operationType?: "query" | "mutation" | "subscription";
  readonly rootFields?: readonly string[];
  /** The status the fake answered with (set once answered). */
  status?: number;
}

export interface FaultMatch {
  readonly method?: string;
  /** Tested against LoggedRequest.path (no /api/v3 prefix; GraphQL is "/graphql"). */
  readonly path?: RegExp;
  /** A GraphQL mutation whose root fields include this one, e.g. "createCommitOnBranch". */
  readonly graphqlMutation?: string;
}

export interface Fault {
  readonly match: FaultMatch;
  /** How many matching requests it applies to (default 1; Infinity for all). */
  readonly times?: number;
  /** Answer this instead of carrying the request out. */
  readonly respond?: {
    readonly status: number;
    readonly headers?: Record<string, string>;
    readonly body?: unknown;
  };
  /** Wait this long before acting (before answering, or before carrying the request out). */
  readonly delayMs?: number;
  /** Carry the request out, then answer with this status instead: the real answer is lost. */
  readonly landThenFail?: { readonly status: number };
  /**
   * Hold the request (no answer) until the fault is cancelled, the faults are cleared or the
   * fake closes; then act as the rest of the fault says (carry it out by default).
   */
  readonly hang?: boolean;
  /** Run after carrying the request out and before answering (someone else acts meanwhile). */
  readonly afterLanding?: () => Promise<void>;
  /** Run when the fault is taken, before anything else (a test moves its clock, say). */
  readonly onTaken?: () => void;
}

export interface InjectedFault {
  /** Matching requests it still applies to. */
  readonly remaining: number;
  /** Stops it applying. */
  cancel(): void;
}

interface ActiveFault {
  readonly fault: Fault;
  remaining: number;
  readonly released: Promise<void>;
  release(): void;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  401: "Requires authentication",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  422: "Validation Failed",
  500: "Internal Server Error",
  502: "Server Error",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/**
 * A stateful GitHub on 127.0.0.1 backed by a real git repository: GraphQL executed against
 * GitHub's real schema, a REST subset whose every route exists in GitHub's OpenAPI
 * description, a request log and fault injection.
 */
export class FakeGitHub {
  /** REST base (`baseUrl` for Octokit); GraphQL is served at /graphql, /api/graphql and here. */
  readonly url: string;
  /** Web base: html_url and commit URLs start with it (`serverUrl` for GitHubRepo). */
  readonly webUrl: string;
  readonly owner: string;
  readonly repoName: string;
  readonly branch: string;
  /** The backing repository's work tree (non-bare). */
  readonly dir: string;
  /** The backing repository, for assertions and for "someone else pushed" setups. */
  readonly repo: LocalGitRepo;
  readonly store: FakeGitStore;
  readonly requests: LoggedRequest[] = [];
  /** Added to every request's round trip, in ms. */
  latencyMs = 0;
  /** Tokens GitHub no longer accepts (a revoked installation token): answered 401. */
  readonly revokedTokens = new Set<string>();
  readonly #server: Server;
  readonly #root: string;
  readonly #router: RestRouter;
  readonly #faults: ActiveFault[] = [];
  readonly #state = new Map<string, unknown>();
  readonly #context: FakeContext;

  /** Use startFakeGitHub. */
  constructor(init: {
    server: Server;
    root: string;
    dir: string;
    owner: string;
    repo: string;
    branch: string;
    routes: readonly RestRoute[];
  }) {
    const { port } = init.server.address() as AddressInfo;
    this.webUrl = `http://127.0.0.1:${port}`;
    this.url = `${this.webUrl}/api/v3`;
    this.owner = init.owner;
    this.repoName = init.repo;
    this.branch = init.branch;
    this.dir = init.dir;
    this.store = new FakeGitStore(init.dir);
    this.repo = this.store.repo;
    this.#server = init.server;
    this.#root = init.root;
    this.#router = new RestRouter(init.routes);
    const state = this.#state;
    this.#context = {
      owner: init.owner,
      repo: init.repo,
      store: this.store,
      webUrl: this.webUrl,
      apiUrl: this.url,
      state<T>(key: string, create: () => T): T {
        if (!state.has(key)) state.set(key, create());
        return state.get(key) as T;
      },
    };
  }

  /** The per-fake state route modules keep (pull requests, comments, settings), for tests. */
  get context(): FakeContext {
    return this.#context;
  }

  /** GraphQL requests in the log (most tests count these). */
  get graphqlRequests(): LoggedRequest[] {
    return this.requests.filter((r) => r.path === "/graphql");
  }

  resetLog(): void {
    this.requests.length = 0;
  }

  inject(fault: Fault): InjectedFault {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const active: ActiveFault = { fault, remaining: fault.times ?? 1, released, release };
    this.#faults.push(active);
    return {
      get remaining() {
        return active.remaining;
      },
      cancel: () => {
        active.remaining = 0;
        active.release();
      },
    };
  }

  clearFaults(): void {
    for (const active of this.#faults) active.release();
    this.#faults.length = 0;
  }

  /** The head of the fake's default branch (or another branch), straight from git. */
  async head(branch = this.branch): Promise<string> {
    return (await this.repo.read(branch, [])).head;
  }

  async close(): Promise<void> {
    for (const active of this.#faults) active.release();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    await rm(this.#root, { recursive: true, force: true, maxRetries: 3 });
  }

  /** @internal the HTTP entry point. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.webUrl);
    const rawPath = url.pathname;
    const path = normalizePath(rawPath);
    const method = (req.method ?? "GET").toUpperCase();
    const bodyText = await readBody(req);
    let body: unknown;
    if (bodyText !== "") {
      try {
        body = JSON.parse(bodyText);
      } catch {
        body = bodyText;
      }
    }
    const summary = path === "/graphql" ? summarizeGraphql(body) : undefined;
    const entry: LoggedRequest = {
      method,
      path,
      rawPath,
      query: Object.fromEntries(url.searchParams),
      body,
      headers: { ...req.headers },
      ...(summary?.operationName === undefined ? {} : { operationName: summary.operationName }),
      ...(summary === undefined
        ? {}
        : { operationType: summary.operationType, rootFields: summary.rootFields }),
    };
    this.requests.push(entry);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      const text = payload === undefined ? "" : JSON.stringify(payload);
      res.writeHead(status, {
        "content-type": "application/json; charset=utf-8",
        "x-github-request-id": `FAKE:${this.requests.length}`,
        "x-github-media-type": "github.v3; format=json",
        ...headers,
      });
      res.end(text);
    };

    if (this.latencyMs > 0) await sleep(this.latencyMs);

    // POST /app-manifests/{code}/conversions is unauthenticated on GitHub too (the code is the secret).
    const open = path.startsWith("/app/") || path.startsWith("/app-manifests/");
    if (!open && req.headers.authorization === undefined) {
      send(401, {
        message: "Requires authentication",
        documentation_url: "https://docs.github.com/rest",
        status: "401",
      });
      return;
    }

    const presented = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (presented !== undefined && this.revokedTokens.has(presented)) {
      send(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
      return;
    }

    const taken = this.#takeFault(entry);
    const fault = taken?.fault;
    fault?.onTaken?.();
    if (fault?.hang === true) await taken?.released;
    if (fault?.delayMs !== undefined) await sleep(fault.delayMs);
    if (fault?.respond !== undefined) {
      const { status, headers, body: faultBody } = fault.respond;
      send(status, faultBody ?? errorBody(status), headers);
      return;
    }

    const answer = await this.#dispatch(method, path, rawPath, url.searchParams, body, req);
    if (fault?.afterLanding !== undefined) await fault.afterLanding();
    if (fault?.landThenFail !== undefined) {
      send(fault.landThenFail.status, errorBody(fault.landThenFail.status));
      return;
    }
    send(answer.status, answer.body, answer.headers);
  }

  #takeFault(entry: LoggedRequest): ActiveFault | undefined {
    for (const active of this.#faults) {
      if (active.remaining <= 0) continue;
      const { match } = active.fault;
      if (match.method !== undefined && match.method.toUpperCase() !== entry.method) continue;
      if (match.path !== undefined && !match.path.test(entry.path)) continue;
      if (
        match.graphqlMutation !== undefined &&
        (entry.operationType !== "mutation" ||
          !(entry.rootFields ?? []).includes(match.graphqlMutation))
      ) {
        continue;
      }
      active.remaining -= 1;
      return active;
    }
    return undefined;
  }

  async #dispatch(
    method: string,
    path: string,
    rawPath: string,
    query: URLSearchParams,
    body: unknown,
    req: IncomingMessage,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    try {
      if (path === "/graphql") {
        if (method !== "POST") return { status: 404, body: errorBody(404) };
        return await handleGraphql(this.#context, body);
      }
      const restPath = rawPath.replace(/^\/api\/v3(?=\/|$)/, "") || "/";
      const match = this.#router.match(method, restPath);
      if (match === undefined) return { status: 404, body: errorBody(404) };
      const response = await match.route.handler({
        method: method as HttpMethod,
        params: match.params,
        query,
        body,
        headers: req.headers,
        fake: this.#context,
      });
      return {
        status: response.status,
        body: response.body,
        ...(response.headers === undefined ? {} : { headers: { ...response.headers } }),
      };
    } catch (error) {
      if (error instanceof HttpError) return { status: error.status, body: error.body };
      return {
        status: 500,
        body: { message: `fake GitHub: ${error instanceof Error ? error.message : String(error)}` },
      };
    }
  }
}

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const routes = [...DEFAULT_ROUTES, ...(options.routes ?? [])];
  assertRoutesExistOnGitHub(routes);
  const root = await mkdtemp(join(tmpdir(), "fake-github-"));
  const dir = join(root, "repo");
  const branch = options.branch ?? "main";
  try {
    await copyOfRepo(options.files, dir, { branch });
    let fake: FakeGitHub | undefined;
    const server = createServer((req, res) => {
      if (fake === undefined) {
        res.writeHead(503).end();
        return;
      }
      fake.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: `fake GitHub crashed: ${String(error)}` }));
      });
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    fake = new FakeGitHub({
      server,
      root,
      dir,
      owner: options.owner ?? "acme",
      repo: options.repo ?? "gitops",
      branch,
      routes,
    });
    return fake;
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

/** "/api/v3/repos/a/b" → "/repos/a/b"; every GraphQL endpoint → "/graphql". */
function normalizePath(rawPath: string): string {
  if (rawPath === "/graphql" || rawPath === "/api/graphql" || rawPath === "/api/v3/graphql") {
    return "/graphql";
  }
  return rawPath.replace(/^\/api\/v3(?=\/|$)/, "") || "/";
}

function errorBody(status: number): Record<string, unknown> {
  return {
    message: STATUS_TEXT[status] ?? `HTTP ${status}`,
    documentation_url: "https://docs.github.com/rest",
    status: String(status),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
