import type { RequestHandler } from "express";
import { openApiDocument } from "./document.js";

/** GET /openapi.json: built once, on first use. */
export function openApiHandler(webhookPath?: string): RequestHandler {
  let body: string | undefined;
  return (_req, res) => {
    body ??= JSON.stringify(openApiDocument(webhookPath));
    res.type("json").send(body);
  };
}
