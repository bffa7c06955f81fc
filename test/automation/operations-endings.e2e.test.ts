import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitCount } from "../helpers/git.js";
import {
  ALERT_TOKEN,
  type AutomationServer,
  startAutomationServer,
  startSink,
} from "./automation-server.js";

type Operation = { id: string; status: string; phases: { phase: string; detail?: string }[] };
const auth = { authorization: `Bearer ${ALERT_TOKEN}` };

describe("operations over HTTP: a no-op ends, a preview is neither notified nor kept", () => {
  let server: AutomationServer;
  let sink: Awaited<ReturnType<typeof startSink>>;
  beforeAll(async () => {
    sink = await startSink();
    server = await startAutomationServer((demo) => demo, {
      FAILOVER_NOTIFY: `generic+${sink.url}/notify`,
    });
  });
  afterAll(async () => {
    await server?.close();
    await sink?.close();
  });

  /** Everything the requests started has ended: the background queue and the notifications. */
  async function settled(): Promise<void> {
    await server.runtime.background.idle();
    await server.automation.notifier.flush();
  }

  it("?wait=false on a service already where asked: 202, then the operation is `no_op`", async () => {
    const before = commitCount(server.repoDir);
    const res = await server.post("/api/failover/radarr/demote?wait=false", "", auth);
    expect(res.status).toBe(202);
    const { operation } = (await res.json()) as { operation: string };
    await settled();
    const got = await fetch(`${server.url}/api/operations/${operation}`);
    expect(got.status).toBe(200);
    const op = ((await got.json()) as { operation: Operation }).operation;
    expect(op.status).toBe("no_op");
    expect(op.phases.map((p) => p.phase)).toEqual(["requested", "no_op"]);
    expect(op.phases[1]?.detail).toBe("nothing to change: radarr already on primary");
    expect(commitCount(server.repoDir)).toBe(before);
  });

  it("an anonymous preview of an unknown service: 404, no notification, no operation", async () => {
    await settled();
    const sent = sink.received.length;
    const known = server.automation.store.pending().length;
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${server.url}/api/failover/nosuch/promote?dry-run=true`);
      expect(res.status).toBe(404);
    }
    const node = await fetch(`${server.url}/api/nodes/nosuch/promote?dry-run=true`);
    expect(node.status).toBeGreaterThanOrEqual(400);
    await settled();
    expect(sink.received.slice(sent)).toEqual([]);
    expect(server.automation.store.pending().length).toBe(known);
    // The same refusal of a real attempt is news: one high-priority message.
    const real = await server.post("/api/failover/nosuch/promote", "", auth);
    expect(real.status).toBe(404);
    await settled();
    const bodies = sink.received.slice(sent).map((r) => JSON.parse(r.body) as { type: string });
    expect(bodies.map((b) => b.type)).toEqual(["refused"]);
  });
});
