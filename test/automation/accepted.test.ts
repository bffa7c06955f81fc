import express from "express";
import { describe, expect, it } from "vitest";
import { answerAccepted, operationPath } from "../../src/operations/accepted.js";
import { listen } from "../../src/server.js";

describe("?wait=false: 202 with Location naming the operation", () => {
  it("answers 202, Location /api/operations/<id>, over real HTTP", async () => {
    const app = express();
    app.post("/write", (req, res) => {
      // (`wait` is parsed strictly by src/http/write-input.ts; see wiring-no-wait.test.ts.)
      if (req.query.wait === "false") answerAccepted(res, "op-123");
      else res.json({ outcome: "applied" });
    });
    const server = await listen(app, 0, "127.0.0.1");
    try {
      const res = await fetch(`${server.url}/write?wait=false`, { method: "POST" });
      expect(res.status).toBe(202);
      expect(res.headers.get("location")).toBe("/api/operations/op-123");
      expect(await res.json()).toEqual({
        operation: "op-123",
        status: "requested",
        location: operationPath("op-123"),
      });
    } finally {
      await server.close();
    }
  });
});
