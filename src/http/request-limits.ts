import type { RequestHandler } from "express";

/** The API reads no request body: anything beyond a few bytes is a mistake or an attack. */
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

/**
 * 413 for a body over MAX_BODY_BYTES. A declared Content-Length is checked at once; a
 * chunked body is counted as it arrives (and drained when small, so the connection can be
 * reused). Mounted after the webhook handler: GitHub's payloads are large and signed.
 */
export function bodyLimit(maxBytes = MAX_BODY_BYTES): RequestHandler {
  return (req, res, next) => {
    const declared = req.headers["content-length"];
    if (declared !== undefined) {
      if (Number(declared) > maxBytes) {
        reject(res, 413, `the request body is larger than ${maxBytes} bytes; this API reads none`);
        return;
      }
      next();
      return;
    }
    if (req.headers["transfer-encoding"] === undefined) {
      next();
      return;
    }
    let seen = 0;
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      if (error === undefined) next();
      else next(error);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes && !done) {
        done = true;
        req.off("data", onData);
        req.off("end", onEnd);
        req.off("error", onError);
        req.pause();
        reject(res, 413, `the request body is larger than ${maxBytes} bytes; this API reads none`);
      }
    };
    const onEnd = () => finish();
    const onError = (error: Error) => finish(error);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  };
}
