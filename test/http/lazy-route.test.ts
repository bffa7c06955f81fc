import express, { type RequestHandler } from "express";
import { afterEach, describe, expect, it } from "vitest";
import { lazyRoute } from "../../src/http/lazy-route.js";
import { jsonErrorHandler } from "../../src/http/routes.js";
import { listen, type RunningServer } from "../../src/server.js";

describe("lazyRoute: a handler imported on its first request", () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function serve(route: RequestHandler): Promise<string> {
    const app = express();
    app.get("/thing", route);
    app.get("/api/health", (_req, res) => {
      res.json({ status: "ok" });
    });
    app.use(jsonErrorHandler(() => undefined));
    server = await listen(app, 0, "127.0.0.1");
    return server.url;
  }

  it("loads once for concurrent first requests, then serves from the loaded handler", async () => {
    let loads = 0;
    const url = await serve(
      lazyRoute("the thing", async () => {
        loads++;
        return (_req, res) => {
          res.json({ thing: true });
        };
      }),
    );
    const answers = await Promise.all([1, 2, 3].map(() => fetch(`${url}/thing`)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await (await fetch(`${url}/thing`)).json()).toEqual({ thing: true });
    expect(loads).toBe(1);
  });

  it("a failed import answers 500 naming what failed (not why), keeps the process and the other routes, and is tried again", async () => {
    let loads = 0;
    const url = await serve(
      lazyRoute("the thing", async () => {
        loads++;
        if (loads === 1) throw new Error("Cannot find module '/app/dist/thing.js'");
        return (_req, res) => {
          res.json({ thing: true });
        };
      }),
    );
    const failed = await fetch(`${url}/thing`);
    expect(failed.status).toBe(500);
    const body = (await failed.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("internal");
    expect(body.error.message).toMatch(/^the thing could not be loaded; the API is unaffected/);
    expect(body.error.message).not.toContain("/app/dist");
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
    expect((await fetch(`${url}/thing`)).status).toBe(200);
    expect(loads).toBe(2);
  });

  it("an error of the loaded handler reaches the error handler", async () => {
    const url = await serve(
      lazyRoute("the thing", async () => async () => {
        throw new Error("boom");
      }),
    );
    const res = await fetch(`${url}/thing`);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("internal");
  });
});
