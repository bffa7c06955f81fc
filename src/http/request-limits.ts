import type { IncomingMessage } from "node:http";
import type { RequestHandler } from "express";

/** The API reads at most a small JSON body: anything beyond a few bytes is a mistake or an attack. */
export const MAX_BODY_BYTES = 4 * 1024;
export const MAX_URL_BYTES = 2 * 1024;

function reject(res: Parameters<RequestHandler>[1], status: 413 | 414, message: string): void {
  // The rest of an oversized body is not read: close the connection after answering.
  res.set("Connection", "close");
  res.status(status).json({ error: { code: "invalid_input", message } });
}

/** 414 for a request target over MAX_URL_BYTES (webhooks included: their path is short). */
export function urlLimit(maxBytes = MAX_URL_BYTES): RequestHandler {
  return (req, res, next) => {
    if (Buffer.byteLength(req.originalUrl, "utf8") > maxBytes) {
      reject(res, 414, `the request URL is longer than ${maxBytes} bytes`);
      return;
    }
    next();
  };
}

const bodies = new WeakMap<IncomingMessage, Buffer>();

/** The request body bodyLimit read (at most MAX_BODY_BYTES); `undefined` when there was none. */
export function requestBody(req: IncomingMessage): Buffer | undefined {
  return bodies.get(req);
}

/**
 * 413 for a body over MAX_BODY_BYTES. A declared Content-Length is checked at once; the
 * body (declared or chunked) is then read as it arrives, counted, and kept for the write
 * routes (`requestBody`), so nothing after this middleware reads from the client. Mounted
 * after the webhook handler: GitHub's payloads are large and signed.
 */
export function bodyLimit(maxBytes = MAX_BODY_BYTES): RequestHandler {
  return (req, res, next) => {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > maxBytes) {
      reject(res, 413, `the request body is larger than ${maxBytes} bytes`);
      return;
    }
    if (declared === undefined && req.headers["transfer-encoding"] === undefined) {
      next();
      return;
    }
    const chunks: Buffer[] = [];
    let seen = 0;
    let done = false;
    const stop = () => {
      done = true;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      if (done) return;
      seen += chunk.length;
      if (seen > maxBytes) {
        stop();
        req.pause();
        reject(res, 413, `the request body is larger than ${maxBytes} bytes`);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (done) return;
      stop();
      bodies.set(req, Buffer.concat(chunks));
      next();
    };
    const onError = () => {
      // The client went away (or sent a broken body): nothing was read, nothing runs.
      if (done) return;
      stop();
      res.set("Connection", "close");
      res.status(400).json({
        error: { code: "invalid_input", message: "the request body could not be read" },
      });
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  };
}
