import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerApi } from "../../src/automation/alertmanager-api.js";
import { gettableAlert, startFakeAlertmanager } from "./automation-server.js";

describe("Alertmanager's API v2 (GET /api/v2/alerts), read only", () => {
  let am: Awaited<ReturnType<typeof startFakeAlertmanager>>;
  beforeAll(async () => {
    am = await startFakeAlertmanager();
  });
  afterAll(() => am?.close());

  it("lists the firing alerts with the label, asking for active, silenced, inhibited and unprocessed ones", async () => {
    am.alerts.splice(0, am.alerts.length);
    am.alerts.push(
      gettableAlert({ alertname: "KubeNodeNotReady", node: "k3s-w1", fingerprint: "aa01" }),
      gettableAlert({
        alertname: "KubeNodeUnreachable",
        node: "k3s-w1",
        fingerprint: "aa02",
        state: "suppressed",
      }),
      gettableAlert({ alertname: "KubeNodeNotReady", node: "k3s-w2", fingerprint: "aa03" }),
    );
    am.requests.splice(0, am.requests.length);
    const api = alertmanagerApi({ url: am.url });
    const listed = await api.firingAlerts("node", "k3s-w1");
    expect(listed.map((a) => [a.fingerprint, a.status.state])).toEqual([
      ["aa01", "active"],
      ["aa02", "suppressed"],
    ]);
    const asked = new URL(am.requests[0]?.url ?? "", am.url);
    expect(asked.pathname).toBe("/api/v2/alerts");
    expect(asked.searchParams.getAll("filter")).toEqual(['node="k3s-w1"']);
    for (const flag of ["active", "silenced", "inhibited", "unprocessed"]) {
      expect(asked.searchParams.get(flag)).toBe("true");
    }
    expect(am.requests[0]?.authorization).toBeUndefined();
  });

  it("a URL with a path prefix and basic-auth credentials: the path is kept, the credentials sent as a header", async () => {
    am.requests.splice(0, am.requests.length);
    const url = new URL(am.url);
    const api = alertmanagerApi({ url: `http://alice:s%3Acret@${url.host}/prefix` });
    await expect(api.firingAlerts("node", "k3s-w1")).rejects.toThrow(/HTTP 404/);
    expect(am.requests[0]?.url.startsWith("/prefix/api/v2/alerts?")).toBe(true);
    expect(am.requests[0]?.authorization).toBe(
      `Basic ${Buffer.from("alice:s:cret").toString("base64")}`,
    );
  });

  it("fails (the caller cannot tell) on an error status, a body that is not a list of alerts, or a value it cannot quote", async () => {
    const api = alertmanagerApi({ url: am.url });
    am.fail = true;
    await expect(api.firingAlerts("node", "k3s-w1")).rejects.toThrow(/HTTP 500/);
    am.fail = false;
    const wrong = alertmanagerApi({
      url: am.url,
      fetch: async () => new Response(JSON.stringify({ data: [] }), { status: 200 }),
    });
    await expect(wrong.firingAlerts("node", "k3s-w1")).rejects.toThrow(/not a list of alerts/);
    await expect(api.firingAlerts("node", 'k3s"w1')).rejects.toThrow(/cannot ask/);
    await expect(api.firingAlerts("no-de", "k3s-w1")).rejects.toThrow(/cannot ask/);
    const unreachable = alertmanagerApi({
      url: "http://alice:secret@127.0.0.1:1",
      fetch: async () => {
        throw new TypeError("fetch failed");
      },
    });
    const error = await unreachable.firingAlerts("node", "k3s-w1").catch((e: Error) => e);
    expect(String(error)).toContain("fetch failed");
    expect(String(error)).not.toContain("secret");
  });
});
