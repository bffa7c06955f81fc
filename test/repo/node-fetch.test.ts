import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { Octokit } from "@octokit/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeFetch } from "../../src/repo/github/node-fetch.js";

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

/** A loopback server per origin: routes by path, records what it was sent. */
async function origin(
  route: (req: IncomingMessage, res: ServerResponse, seen: Seen) => void,
): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const one = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      seen.push(one);
      route(req, res, one);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, server };
}

/**
 * node-fetch.ts: the part of fetch Octokit calls, on node:http (token mode loads no undici).
 * Each case is what Octokit relies on fetch for.
 */
describe("nodeFetch", () => {
  let other: Awaited<ReturnType<typeof origin>>;
  let main: Awaited<ReturnType<typeof origin>>;
  const hung: ServerResponse[] = [];

  beforeAll(async () => {
    other = await origin((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end('{"moved":true}');
    });
    main = await origin((req, res, seen) => {
      const path = req.url ?? "";
      if (path === "/json") {
        res.setHeader("x-multi", ["a", "b"]);
        res.writeHead(200, { "content-type": "application/json; charset=utf-8", "X-Up": "1" });
        res.end(JSON.stringify({ echo: seen.body, method: seen.method }));
      } else if (path === "/gzip") {
        res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
        res.end(gzipSync(JSON.stringify({ big: "x".repeat(10_000) })));
      } else if (path === "/same") {
        res.writeHead(301, { location: "/json" }).end();
      } else if (path === "/elsewhere") {
        res.writeHead(302, { location: `${other.url}/landed` }).end();
      } else if (path === "/see-other") {
        res.writeHead(303, { location: "/json" }).end();
      } else if (path === "/loop") {
        res.writeHead(302, { location: "/loop" }).end();
      } else if (path === "/hang") {
        hung.push(res); // never answered
      } else if (path === "/missing") {
        res.writeHead(404, { "content-type": "application/json" });
        res.end('{"message":"Not Found"}');
      } else if (path === "/empty") {
        res.writeHead(204).end();
      } else {
        res.writeHead(500).end();
      }
    });
  });
  afterAll(async () => {
    for (const res of hung) res.destroy();
    for (const s of [main.server, other.server]) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  it("sends method, headers and body; answers status, url, headers and the body", async () => {
    const res = await nodeFetch(`${main.url}/json`, {
      method: "POST",
      headers: { Authorization: "token t", "content-type": "application/json" },
      body: '{"q":"é"}',
    });
    expect(res).toMatchObject({
      status: 200,
      ok: true,
      url: `${main.url}/json`,
      redirected: false,
    });
    expect(await res.json()).toEqual({ echo: '{"q":"é"}', method: "POST" });
    const sent = main.seen.at(-1);
    expect(sent?.headers).toMatchObject({
      authorization: "token t",
      "content-length": String(Buffer.byteLength('{"q":"é"}')),
    });
    expect(res.headers.get("Content-Type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("x-multi")).toBe("a, b");
    const names = [...res.headers].map(([name]) => name);
    expect(names).toContain("x-up");
    expect(names).toEqual([...names].sort());
  });

  it("asks for and decodes a compressed answer", async () => {
    const res = await nodeFetch(`${main.url}/gzip`);
    expect(main.seen.at(-1)?.headers["accept-encoding"]).toContain("gzip");
    expect(await res.json()).toEqual({ big: "x".repeat(10_000) });
  });

  it("follows redirects; the token goes only to the origin it was meant for", async () => {
    const same = await nodeFetch(`${main.url}/same`, { headers: { authorization: "token t" } });
    expect(same).toMatchObject({ status: 200, url: `${main.url}/json`, redirected: true });
    expect(main.seen.at(-1)?.headers.authorization).toBe("token t");

    const away = await nodeFetch(`${main.url}/elsewhere`, {
      headers: { authorization: "token t" },
    });
    expect(await away.json()).toEqual({ moved: true });
    expect(other.seen.at(-1)?.headers.authorization).toBeUndefined();

    const seeOther = await nodeFetch(`${main.url}/see-other`, { method: "POST", body: "{}" });
    expect(await seeOther.json()).toEqual({ echo: "", method: "GET" });

    await expect(nodeFetch(`${main.url}/loop`)).rejects.toThrow(TypeError);
    const manual = await nodeFetch(`${main.url}/same`, { redirect: "manual" });
    expect(manual.status).toBe(301);
  });

  it("rejects with the signal's reason when aborted, and with TypeError when it cannot connect", async () => {
    const controller = new AbortController();
    const pending = nodeFetch(`${main.url}/hang`, { signal: controller.signal });
    const reason = new Error("took too long");
    // Aborted once the server has the request: nothing here depends on time.
    for (let i = 0; i < 10_000 && hung.length === 0; i++) await new Promise((r) => setImmediate(r));
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);

    const closed = await origin(() => undefined);
    await new Promise((r) => closed.server.close(r));
    await expect(nodeFetch(closed.url)).rejects.toMatchObject({
      name: "TypeError",
      message: "fetch failed",
      cause: { code: "ECONNREFUSED" },
    });
  });

  it("is what Octokit needs: data, RequestError with the answer, 204", async () => {
    const octokit = new Octokit({
      baseUrl: main.url,
      request: { fetch: nodeFetch as unknown as typeof fetch },
    });
    const { data, headers } = await octokit.request("POST /json", { a: 1 });
    expect(data).toEqual({ echo: '{"a":1}', method: "POST" });
    expect(headers["x-up"]).toBe("1");
    await expect(octokit.request("GET /missing")).rejects.toMatchObject({
      status: 404,
      message: "Not Found",
      response: { status: 404, data: { message: "Not Found" } },
    });
    await expect(octokit.request("GET /empty")).resolves.toMatchObject({ status: 204 });
    await expect(octokit.request("GET /nothing-here")).rejects.toMatchObject({ status: 500 });
  });
});
