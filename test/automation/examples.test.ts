import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";

const DIR = join(import.meta.dirname, "../../deploy/examples/automation");
const read = (file: string) => readFileSync(join(DIR, file), "utf8");
type Json = Record<string, unknown> & { spec?: Record<string, unknown> };

describe("deploy/examples/automation says what the code does", () => {
  it("the PrometheusRule's alert carries failover_node from the node label", () => {
    const rule = parse(read("prometheusrule.yaml")) as Json;
    const groups = (rule.spec?.groups ?? []) as {
      rules: { alert: string; labels: Json; expr: string }[];
    }[];
    const [alert] = groups[0]?.rules ?? [];
    expect(alert?.labels.failover_node).toBe("{{ $labels.node }}");
    expect(alert?.expr).toContain(
      'kube_node_status_condition{job="kube-state-metrics",condition="Ready",status="true"} == 0',
    );
  });

  it("Alertmanager posts to /api/alertmanager with a bearer token and resolved alerts", () => {
    const config = parse(read("alertmanager.yaml")) as { receivers: { webhook_configs: Json[] }[] };
    const hook = config.receivers[0]?.webhook_configs[0];
    expect(String(hook?.url)).toMatch(/\/api\/alertmanager$/);
    expect(hook).toMatchObject({
      send_resolved: true,
      http_config: { authorization: { type: "Bearer" } },
    });
  });

  it("the Flux Provider is generic-hmac to /api/flux/events, and the Alert sends Kustomization events", () => {
    const [provider, alert] = parseAllDocuments(read("flux-events.yaml")).map(
      (d) => d.toJS() as Json,
    );
    expect(provider?.spec).toMatchObject({ type: "generic-hmac" });
    expect(String(provider?.spec?.address)).toMatch(/\/api\/flux\/events$/);
    expect(alert?.spec).toMatchObject({
      eventSeverity: "info",
      eventSources: [{ kind: "Kustomization" }],
    });
  });

  it("Home Assistant checks the status in response_variable (rest_command does not fail on 4xx/5xx)", () => {
    const text = read("home-assistant.yaml").replace(/!secret /g, "");
    const ha = parse(text) as { script: Record<string, { sequence: Json[] }> };
    const [call, check] = ha.script.failover_sonarr?.sequence ?? [];
    expect(call).toMatchObject({ response_variable: "failover" });
    expect(JSON.stringify(check)).toContain("failover['status'] != 200");
  });

  it("the RBAC lists nodes (the failback's and the timer's Ready read is a list, not a get)", () => {
    const [role] = parseAllDocuments(read("rbac.yaml")).map((d) => d.toJS() as Json);
    const rules = (role?.rules ?? []) as { resources: string[]; verbs: string[] }[];
    expect(rules.find((r) => r.resources.includes("nodes"))?.verbs).toContain("list");
  });

  it("the Alertmanager egress policy opens Alertmanager's API port only", () => {
    const policy = parse(read("networkpolicy-alertmanager.yaml")) as Json;
    expect(policy.spec).toMatchObject({
      policyTypes: ["Egress"],
      egress: [{ ports: [{ protocol: "TCP", port: 9093 }] }],
    });
  });
});
