import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { RequestHandler } from "express";
import { APP_CSS } from "./assets/app-css.js";
import { APP_SCRIPT } from "./assets/app-script.js";

/** Two arrows swapping sides: the tab's icon (a browser asks for one; no 404 in its console). */
const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M2 5h10l-3-3M14 11H4l3 3" fill="none" stroke="#0969da" stroke-width="2"/></svg>';

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly etag: string;
}

function asset(type: string, text: string | Buffer): Asset {
  const body = typeof text === "string" ? Buffer.from(text, "utf8") : text;
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
  return { type, body, etag };
}

/**
 * The page's files, all from the app: htmx from its npm package (the version the lock
 * file pins; no CDN), and the page's own script and styles, kept as TypeScript strings so
 * the build (tsc to dist/) carries them.
 */
function loadAssets(): Map<string, Asset> {
  const require = createRequire(import.meta.url);
  const htmx = readFileSync(require.resolve("htmx.org/dist/htmx.min.js"));
  return new Map([
    ["/assets/htmx.min.js", asset("text/javascript; charset=utf-8", htmx)],
    ["/assets/app.js", asset("text/javascript; charset=utf-8", APP_SCRIPT)],
    ["/assets/app.css", asset("text/css; charset=utf-8", APP_CSS)],
    ["/assets/icon.svg", asset("image/svg+xml", ICON)],
  ]);
}

export function serveAssets(): RequestHandler {
  const assets = loadAssets();
  return (req, res, next) => {
    const found = assets.get(req.path);
    if (found === undefined || (req.method !== "GET" && req.method !== "HEAD")) {
      next();
      return;
    }
    res.set("Content-Type", found.type);
    res.set("Cache-Control", "no-cache");
    res.set("ETag", found.etag);
    if (req.get("if-none-match") === found.etag) {
      res.status(304).end();
      return;
    }
    res.send(found.body);
  };
}
