import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUTCOMES } from "../../src/domain/outcome.js";
import {
  ALERT_TOKEN,
  alertPayload,
  FLUX_SECRET,
  fluxEvent,
  startAutomationServer,
} from "../automation/automation-server.js";
import { git } from "../helpers/git.js";
import { issueComment } from "../helpers/webhook-payloads.js";
import { type OpsServer, startOpsAppServer, startOpsServer } from "../ops/ops-server.js";

/**
 * GET /openapi.json is a valid OpenAPI 3.1 document, and what every route really answers
 * (the real server on the demo's local Git repository) matches the document's schema for
 * that route and status: a field served but not described, or a status not documented, fails.
 */
type Doc = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
  components: unknown;
};

class ResponseChecker {
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true });
  readonly #compiled = new Map<string, ReturnType<Ajv2020["compile"]>>();
  readonly answered = new Set<string>();

  constructor(readonly doc: Doc) {}

  /** Why `body` does not fit the JSON request body documented for `template`; "" when it does. */
  requestErrors(method: string, template: string, body: unknown): string {
    const operation = this.doc.paths[template]?.[method.toLowerCase()] as
      | { requestBody?: { content: Record<string, { schema: object }> } }
      | undefined;
    const schema = operation?.requestBody?.content["application/json"]?.schema;
    if (schema === undefined) return `${method} ${template} documents no JSON body`;
    const key = `request ${method} ${template}`;
    let validate = this.#compiled.get(key);
    if (validate === undefined) {
      // Compiled once: each compile takes the whole components section along.
      validate = this.#ajv.compile({ ...schema, components: this.doc.components });
      this.#compiled.set(key, validate);
    }
    return validate(body) ? "" : this.#ajv.errorsText(validate.errors);
  }

  /** Fetches `path` and checks the answer against `template`'s operation in the document. */
  async check(
    server: Pick<OpsServer, "call">,
    method: string,
    template: string,
    path: string,
    init: RequestInit & { token?: string } = {},
  ) {
    const res = await server.call(path, { ...init, method });
    const status = res.status;
    const operation = this.doc.paths[template]?.[method.toLowerCase()];
    expect(operation, `${method} ${template} is in the document`).toBeDefined();
    const response = operation?.responses[String(status)];
    expect(response, `${method} ${template} documents status ${status}`).toBeDefined();
    const [type, media] = Object.entries(response?.content ?? {})[0] ?? [];
    expect(res.headers.get("content-type") ?? "").toContain(type ?? "none");
    const text = await res.text();
    const body: unknown = type === "application/json" ? JSON.parse(text) : text;
    const key = `${method} ${template} ${status}`;
    let validate = this.#compiled.get(key);
    if (validate === undefined) {
      validate = this.#ajv.compile({
        ...(media?.schema as object),
        components: this.doc.components,
      });
      this.#compiled.set(key, validate);
    }
    if (!validate(body)) {
      throw new Error(`${key}: ${this.#ajv.errorsText(validate.errors)}\n${text.slice(0, 800)}`);
    }
    this.answered.add(key);
    return { status, body: body as Record<string, unknown>, headers: res.headers };
  }
}

describe("the OpenAPI document", () => {
  let server: OpsServer;
  let doc: Doc;
  let checker: ResponseChecker;

  beforeAll(async () => {
    server = await startOpsServer();
    doc = (await (await server.call("/openapi.json")).json()) as Doc;
    checker = new ResponseChecker(doc);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("validates as OpenAPI 3.1", async () => {
    const validator = new Validator();
    const result = await validator.validate(
      structuredClone(doc) as Parameters<Validator["validate"]>[0],
    );
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("matches every read route's answers", async () => {
    const c = (m: string, t: string, p: string = t) => checker.check(server, m, t, p);
    expect((await c("GET", "/api/health")).status).toBe(200);
    expect((await c("GET", "/api/ready")).status).toBe(200);
    expect((await c("GET", "/metrics")).status).toBe(200);
    expect((await c("GET", "/api/services")).status).toBe(200);
    expect((await c("GET", "/api/status")).status).toBe(200);
    expect((await c("GET", "/openapi.json")).status).toBe(200);
    expect((await c("GET", "/")).status).toBe(200);
    const s = "/api/failover/{service}/status";
    expect((await c("GET", s, "/api/failover/sonarr/status")).body.state).toBe("primary");
    expect((await c("GET", s, "/api/failover/nope/status")).status).toBe(404);
    expect((await c("GET", s, "/api/failover/Bad_Name/status")).status).toBe(400);
    const h = "/api/failover/{service}/history";
    expect((await c("GET", h, "/api/failover/sonarr/history?limit=0")).status).toBe(400);
  });

  it("matches every write route's answers, errors included", async () => {
    const c = (m: string, t: string, p: string, init?: RequestInit) =>
      checker.check(server, m, t, p, init);
    const promote = "/api/failover/{service}/promote";
    const demote = "/api/failover/{service}/demote";
    expect(
      (await c("GET", promote, "/api/failover/sonarr/promote?dry-run=true")).body.outcome,
    ).toBe("dry_run");
    expect((await c("GET", promote, "/api/failover/sonarr/promote")).status).toBe(405);
    expect((await c("POST", promote, "/api/failover/sonarr/promote?dry-runn=1")).status).toBe(400);
    const notJson = { body: "dry_run=true", headers: { "content-type": "text/plain" } };
    expect((await c("POST", promote, "/api/failover/sonarr/promote", notJson)).status).toBe(415);
    const huge = {
      body: JSON.stringify({ dry_run: true, pad: "x".repeat(5000) }),
      headers: { "content-type": "application/json" },
    };
    expect((await c("POST", promote, "/api/failover/sonarr/promote", huge)).status).toBe(413);
    expect((await c("POST", promote, "/api/failover/sonarr/promote")).body.outcome).toBe("applied");
    expect((await c("POST", promote, "/api/failover/sonarr/promote")).body.outcome).toBe("no_op");
    expect((await c("GET", demote, "/api/failover/sonarr/demote?dry-run=true")).body.outcome).toBe(
      "dry_run",
    );
    expect((await c("POST", demote, "/api/failover/sonarr/demote")).body.outcome).toBe("applied");
    expect((await c("POST", demote, "/api/failover/nope/demote")).status).toBe(404);
    const history = await c(
      "GET",
      "/api/failover/{service}/history",
      "/api/failover/sonarr/history",
    );
    expect((history.body.history as unknown[]).length).toBe(2);

    const lock = "/api/failover/{service}/lock";
    const unlock = "/api/failover/{service}/unlock";
    expect((await c("POST", lock, "/api/failover/radarr/lock?reason=disk")).body.outcome).toBe(
      "locked",
    );
    expect((await c("POST", lock, "/api/failover/radarr/lock")).body.outcome).toBe("no_op");
    const locked = await c("POST", promote, "/api/failover/radarr/promote");
    expect(locked.status).toBe(423);
    expect(
      (await c("GET", "/api/failover/{service}/status", "/api/failover/radarr/status")).body.locked,
    ).toBeDefined();
    expect(
      (await c("POST", "/api/nodes/{node}/promote", "/api/nodes/primary/promote?dry-run=true")).body
        .outcome,
    ).toBe("dry_run");
    expect((await c("POST", unlock, "/api/failover/radarr/unlock")).body.outcome).toBe("unlocked");
    expect((await c("POST", unlock, "/api/failover/radarr/unlock")).body.outcome).toBe("no_op");

    const nodePromote = "/api/nodes/{node}/promote";
    const nodeDemote = "/api/nodes/{node}/demote";
    expect(
      (await c("GET", nodePromote, "/api/nodes/primary/promote?dry-run=true")).body.outcome,
    ).toBe("dry_run");
    expect((await c("GET", nodeDemote, "/api/nodes/nowhere/demote?dry-run=true")).status).toBe(404);
    expect((await c("POST", nodePromote, "/api/nodes/primary/promote")).body.outcome).toBe(
      "applied",
    );
    expect(
      (await c("GET", nodeDemote, "/api/nodes/primary/demote?dry-run=true")).body.outcome,
    ).toBe("dry_run");
    expect((await c("POST", nodeDemote, "/api/nodes/primary/demote")).body.outcome).toBe("applied");
  });

  it("matches the answers with API tokens on (401) and the webhook route", async () => {
    const withTokens = await startOpsServer({
      FAILOVER_API_TOKENS: "ci:openapi-test-token-0123456789",
      FAILOVER_AUTH_READS: "true",
      FAILOVER_AUTH_METRICS: "true",
    });
    try {
      const tokenChecker = new ResponseChecker(doc);
      const c = (m: string, t: string, p: string = t) => tokenChecker.check(withTokens, m, t, p);
      expect(
        (await c("POST", "/api/failover/{service}/promote", "/api/failover/sonarr/promote")).status,
      ).toBe(401);
      expect((await c("GET", "/api/status")).status).toBe(401);
      expect((await c("GET", "/metrics")).status).toBe(401);
      expect((await c("GET", "/api/health")).status).toBe(200);
    } finally {
      await withTokens.close();
    }
    const app = await startOpsAppServer();
    try {
      const { res } = await app.sendWebhook(
        "issue_comment",
        issueComment("just a comment", "octocat"),
      );
      const operation = doc.paths["/api/github/webhooks"]?.post;
      expect(
        operation?.responses[String(res.status)],
        `webhook status ${res.status} is documented`,
      ).toBeDefined();
      expect(res.status).toBe(200);
      const unsigned = await fetch(`${app.url}/api/github/webhooks`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "ping",
          "x-github-delivery": "1",
        },
        body: "{}",
      });
      expect(
        operation?.responses[String(unsigned.status)],
        `webhook status ${unsigned.status} is documented`,
      ).toBeDefined();
    } finally {
      await app.close();
    }
  });

  it("matches a refusal (422) and the unknown state it leaves in the status", async () => {
    const refusing = await startOpsServer();
    try {
      const file = join(refusing.repoDir, "clusters/homelab/apps/media/radarr/deployment.yaml");
      await writeFile(
        file,
        readFileSync(file, "utf8").replace("claimName: pvc-radarr", "claimName: ${RADARR_CLAIM}"),
      );
      git(refusing.repoDir, "commit", "-qam", "templated claim");
      const own = new ResponseChecker(doc);
      const refused = await own.check(
        refusing,
        "POST",
        "/api/failover/{service}/promote",
        "/api/failover/radarr/promote",
      );
      expect(refused.status).toBe(422);
      const all = await own.check(refusing, "GET", "/api/status", "/api/status");
      const radarr = (
        all.body.services as { service: string; state: string; reason?: string }[]
      ).find((s) => s.service === "radarr");
      expect(radarr?.state).toBe("unknown");
      expect(radarr?.reason).toContain("radarr/deployment.yaml");
      const node = await own.check(
        refusing,
        "GET",
        "/api/nodes/{node}/promote",
        "/api/nodes/primary/promote?dry-run=true",
      );
      expect((node.body.services as { result: string }[]).map((s) => s.result).sort()).toEqual([
        "changed",
        "refused",
      ]);
    } finally {
      await refusing.close();
    }
  });

  it("matches the closed loop's routes: Alertmanager, Flux events, operations", async () => {
    const loop = await startAutomationServer(
      (demo) =>
        `nodes:\n  k3s-w1: primary\n  k3s-w2: backup\n${demo.replace(
          "    backup_node_label: backup\n",
          "    backup_node_label: backup\n    auto_failover: true\n",
        )}`,
    );
    const call = (path: string, init: RequestInit & { token?: string } = {}) => {
      const { token, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token !== undefined) headers.set("authorization", `Bearer ${token}`);
      return fetch(`${loop.url}${path}`, { ...rest, headers });
    };
    const c = (m: string, t: string, p: string, init?: RequestInit & { token?: string }) =>
      checker.check({ call }, m, t, p, init);
    const json = (body: unknown, headers: Record<string, string> = {}) => ({
      body: typeof body === "string" ? body : JSON.stringify(body),
      headers: { "content-type": "application/json", ...headers },
    });
    try {
      const am = "/api/alertmanager";
      const down = alertPayload({ node: "k3s-w1", startsAt: new Date(Date.now() - 5 * 60_000) });
      expect((await c("POST", am, am, json(down))).status).toBe(401);
      const v3 = json({ ...down, version: "3" });
      expect((await c("POST", am, am, { ...v3, token: ALERT_TOKEN })).status).toBe(400);
      const applied = await c("POST", am, am, { ...json(down), token: ALERT_TOKEN });
      const [outcome] = applied.body.alerts as { result: string; operation?: string }[];
      expect(outcome?.result).toBe("applied");
      const id = outcome?.operation ?? "";
      expect(id).not.toBe("");
      const again = await c("POST", am, am, { ...json(down), token: ALERT_TOKEN });
      expect((again.body.alerts as { duplicate: boolean }[])[0]?.duplicate).toBe(true);

      const op = "/api/operations/{id}";
      const committed = await c("GET", op, `/api/operations/${id}`);
      expect((committed.body.operation as { status: string }).status).toBe("committed");
      expect((await c("GET", op, "/api/operations/no-such-operation")).status).toBe(404);
      expect((await c("GET", op, "/api/operations/bad%20id")).status).toBe(400);

      const fe = "/api/flux/events";
      // What Alertmanager and notification-controller really send fits the documented bodies.
      expect(checker.requestErrors("POST", am, down)).toBe("");
      expect(
        checker.requestErrors("POST", fe, fluxEvent({ name: "apps", revision: "0".repeat(40) })),
      ).toBe("");
      expect(checker.requestErrors("POST", am, { ...down, version: "3" })).not.toBe("");
      const sha = (applied.body.alerts as { commit?: { sha: string } }[])[0]?.commit?.sha ?? "";
      const event = JSON.stringify(fluxEvent({ name: "apps", revision: sha }));
      expect((await c("POST", fe, fe, json(event))).status).toBe(401);
      const signature = `sha256=${createHmac("sha256", FLUX_SECRET).update(event).digest("hex")}`;
      const settled = await c("POST", fe, fe, json(event, { "x-signature": signature }));
      expect(settled.status).toBe(202);
      expect(settled.body.operations).toEqual([id]);
      const confirmed = await c("GET", op, `/api/operations/${id}`);
      expect((confirmed.body.operation as { status: string }).status).toBe("confirmed");

      // ?wait=false: 202 and its Location, for a service and for a node.
      const demote = await c(
        "POST",
        "/api/failover/{service}/demote",
        "/api/failover/sonarr/demote?wait=false",
        { token: ALERT_TOKEN },
      );
      expect(demote.status).toBe(202);
      expect(demote.headers.get("location")).toBe(demote.body.location);
      const nodeDemote = await c(
        "POST",
        "/api/nodes/{node}/demote",
        "/api/nodes/primary/demote?wait=false",
        { token: ALERT_TOKEN },
      );
      expect(nodeDemote.status).toBe(202);
      await loop.runtime.background.idle();
    } finally {
      await loop.close();
    }
    // Without API tokens, automation is refused (403), never open to anyone.
    // (The helper sets a token; undefined unsets it, as an environment without the variable.)
    const noTokens = { FAILOVER_API_TOKENS: undefined } as unknown as Record<string, string>;
    const open = await startAutomationServer((demo) => demo, noTokens);
    try {
      const am = "/api/alertmanager";
      const down = alertPayload({ node: "primary", startsAt: new Date(Date.now() - 5 * 60_000) });
      const refused = await checker.check(
        { call: (path, init) => fetch(`${open.url}${path}`, init) },
        "POST",
        am,
        am,
        { body: JSON.stringify(down), headers: { "content-type": "application/json" } },
      );
      expect(refused.status).toBe(403);
    } finally {
      await open.close();
    }
  });

  it("describes every outcome of the closed vocabulary, for a service and for a node", () => {
    const schemas = (
      doc.components as { schemas: Record<string, { oneOf?: unknown[]; anyOf?: unknown[] }> }
    ).schemas;
    for (const name of ["FailoverAnswer", "NodeAnswer"]) {
      const variants = (schemas[name]?.oneOf ?? schemas[name]?.anyOf ?? []) as {
        properties: { outcome: { const?: string; enum?: string[] } };
      }[];
      const described = variants.flatMap(
        (v) => v.properties.outcome.enum ?? [v.properties.outcome.const ?? ""],
      );
      expect(described.sort(), name).toEqual([...OUTCOMES].sort());
    }
  });

  it("was checked on every success answer it documents", () => {
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).flatMap(([m, op]) =>
        Object.keys(op.responses)
          .filter((status) => status.startsWith("2"))
          .map((status) => `${m.toUpperCase()} ${path} ${status}`),
      ),
    );
    const unchecked = ops.filter(
      (o) =>
        !checker.answered.has(o) &&
        !o.includes("/api/github/webhooks") &&
        // Promote's 202 is demote's twin (same schema); the loop test above checks demote's.
        !(o.startsWith("POST ") && o.endsWith("/promote 202")),
    );
    expect(unchecked).toEqual([]);
  });
});
