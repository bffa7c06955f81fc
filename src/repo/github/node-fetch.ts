import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";

/** What @octokit/request hands its `fetch` (fetchWrapper): a string body, plain headers. */
export interface FetchInit {
  readonly method?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly body?: string | Uint8Array | null | undefined;
  readonly redirect?: "follow" | "manual" | "error" | undefined;
  readonly signal?: AbortSignal | null | undefined;
}

/** What @octokit/request reads of the answer. */
export interface FetchResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly url: string;
  readonly redirected: boolean;
  readonly headers: ResponseHeaders;
  readonly body: null;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface ResponseHeaders extends Iterable<[string, string]> {
  get(name: string): string | null;
  has(name: string): boolean;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** fetch's own bound on a redirect chain. */
const MAX_REDIRECTS = 20;

/**
 * The part of `fetch` Octokit uses, on node:http. The global fetch is undici, which the
 * process otherwise never needs: its first call compiles undici and its WebAssembly HTTP
 * parser, 10 to 15 MB of a token-mode server's idle memory (issue 11; docs/benchmarks.md),
 * while node:http is already loaded for the server. It keeps what fetch does for a GitHub
 * call: keep-alive connections (Node's global agents), compressed answers, redirects followed
 * (without the Authorization header to another origin), a rejection with `signal.reason` on
 * abort and a TypeError "fetch failed" with the cause on a network error, as Octokit expects.
 * The answer is read whole before it resolves: every caller (Octokit) reads it whole anyway.
 */
export async function nodeFetch(
  input: string | URL,
  init: FetchInit = {},
  redirects = 0,
): Promise<FetchResponse> {
  const url = new URL(input);
  const signal = init.signal ?? undefined;
  signal?.throwIfAborted();
  const method = (init.method ?? "GET").toUpperCase();
  const body = init.body ?? undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(init.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  headers["accept-encoding"] ??= "gzip, deflate, br";
  if (body !== undefined) headers["content-length"] ??= String(Buffer.byteLength(body));
  const answer = await exchange(url, method, headers, body, signal);
  const { status } = answer;
  const location = answer.headers.get("location");
  if (REDIRECTS.has(status) && location !== null && init.redirect !== "manual") {
    if (init.redirect === "error") throw new TypeError("fetch failed", { cause: "redirect" });
    if (redirects >= MAX_REDIRECTS) {
      throw new TypeError("fetch failed", { cause: new Error("redirect count exceeded") });
    }
    const next = new URL(location, url);
    const toGet = status === 303 || ((status === 301 || status === 302) && method === "POST");
    const nextHeaders = { ...headers };
    if (toGet) {
      for (const name of Object.keys(nextHeaders)) {
        if (name.startsWith("content-")) delete nextHeaders[name];
      }
    }
    // The token is for the origin it was sent to, as fetch does.
    if (next.origin !== url.origin) {
      delete nextHeaders.authorization;
      delete nextHeaders.cookie;
    }
    const followed = await nodeFetch(
      next,
      {
        method: toGet && method !== "HEAD" ? "GET" : method,
        headers: nextHeaders,
        body: toGet ? undefined : body,
        redirect: init.redirect,
        signal,
      },
      redirects + 1,
    );
    return { ...followed, redirected: true };
  }
  return answer.response(url.href);
}

interface Exchange {
  readonly status: number;
  readonly headers: ResponseHeaders;
  response(url: string): FetchResponse;
}

function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | Uint8Array | undefined,
  signal: AbortSignal | undefined,
): Promise<Exchange> {
  const send =
    url.protocol === "https:" ? httpsRequest : url.protocol === "http:" ? httpRequest : undefined;
  if (send === undefined) {
    return Promise.reject(
      new TypeError("fetch failed", { cause: new Error(`unsupported protocol ${url.protocol}`) }),
    );
  }
  return new Promise<Exchange>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      reject(error);
    };
    const onAbort = () => {
      req.destroy();
      fail(signal?.reason);
    };
    const req = send(url, { method, headers }, (res) => {
      readBody(res).then(
        (bytes) => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener("abort", onAbort);
          resolve(answer(res, bytes));
        },
        (error: unknown) => fail(new TypeError("fetch failed", { cause: error })),
      );
    });
    req.once("error", (error) => fail(new TypeError("fetch failed", { cause: error })));
    signal?.addEventListener("abort", onAbort, { once: true });
    req.end(body);
  });
}

/** The whole body, decompressed as its content-encoding says. */
async function readBody(res: IncomingMessage): Promise<Buffer> {
  const encoding = String(res.headers["content-encoding"] ?? "")
    .trim()
    .toLowerCase();
  const decoder =
    encoding === "gzip" || encoding === "x-gzip"
      ? createGunzip()
      : encoding === "deflate"
        ? createInflate()
        : encoding === "br"
          ? createBrotliDecompress()
          : undefined;
  const stream = decoder === undefined ? res : res.pipe(decoder);
  if (decoder !== undefined) res.once("error", (error) => decoder.destroy(error));
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function answer(res: IncomingMessage, bytes: Buffer): Exchange {
  const status = res.statusCode ?? 0;
  const headers = responseHeaders(res.rawHeaders);
  return {
    status,
    headers,
    response: (url) => ({
      status,
      statusText: res.statusMessage ?? "",
      ok: status >= 200 && status < 300,
      url,
      redirected: false,
      headers,
      body: null,
      text: async () => bytes.toString("utf8"),
      json: async () => JSON.parse(bytes.toString("utf8")) as unknown,
      arrayBuffer: async () =>
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    }),
  };
}

/** Header names lower-cased, repeated headers joined with ", ", in name order, as fetch's Headers. */
function responseHeaders(raw: readonly string[]): ResponseHeaders {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? "").toLowerCase();
    const value = raw[i + 1] ?? "";
    const seen = map.get(name);
    map.set(name, seen === undefined ? value : `${seen}, ${value}`);
  }
  const sorted = [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    get: (name) => map.get(name.toLowerCase()) ?? null,
    has: (name) => map.has(name.toLowerCase()),
    [Symbol.iterator]: () => sorted[Symbol.iterator](),
  };
}
