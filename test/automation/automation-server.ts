import { createHmac } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { AlertmanagerApi } from "../../src/automation/alertmanager-api.js";
import { type Automation, composeAutomation } from "../../src/automation/compose-automation.js";
import type { Scheduler } from "../../src/automation/scheduler.js";
import type { KubeReader } from "../../src/cluster/kube-reader.js";
import { composeRuntime, createOperations, type Runtime } from "../../src/compose.js";
import { parseEnv } from "../../src/config/env.js";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";
import { Metrics } from "../../src/observability/metrics.js";
import type { Operations } from "../../src/server.js";
import { createHttpApp, listen, type RunningServer } from "../../src/server.js";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.js";
import { appSettings } from "../fake-github/routes/app.js";
import { demoFiles } from "../helpers/github-app-server.js";
import { demoRepoCopy, isDemoMode } from "../helpers/repo-template.js";
import { TEST_BOUNDS } from "../helpers/test-bounds.js";
import { testKeyPair } from "../helpers/test-keys.js";

export const ALERT_TOKEN = "alertmanager-token-0123456789abcdef";
export const FLUX_SECRET = "flux-events-secret-0123456789";

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A local HTTP server recording what it is sent (notification services, Discord, ...). */
export async function startSink(status = 204): Promise<{
  url: string;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * The JSON bodies a sink received, in order. A body that is not JSON is left out: under load
 * the notifier's timeout can cut a request short, and the notifier only logs that; one such
 * entry must not make every later look at the sink throw.
 */
export function jsonBodies<T>(received: readonly Received[]): T[] {
  const bodies: T[] = [];
  for (const r of received) {
    try {
      bodies.push(JSON.parse(r.body) as T);
    } catch {
      // cut short or empty: not a notice
    }
  }
  return bodies;
}

export interface AutomationServer {
  readonly url: string;
  readonly runtime: Runtime;
  readonly operations: Operations;
  /** The registry the current automation registers on (restart() makes a new one). */
  readonly registry: () => Metrics["registry"];
  automation: Automation;
  readonly repoDir: string;
  readonly root: string;
  /** GitHub mode: the fake GitHub holding the repository. */
  readonly fake: FakeGitHub | undefined;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  alert(payload: unknown, token?: string): Promise<Response>;
  fluxEvent(event: unknown, secret?: string): Promise<Response>;
  /** A new automation on the same repository: what a restarted process starts with. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The real composition on the demo backend (a real local Git repository), the real HTTP
 * server with auth, and the closed loop mounted as src/server.ts mounts it.
 */
export async function startAutomationServer(
  services: (demoConfig: string) => string,
  env: Record<string, string> = {},
  options: {
    github?: boolean;
    /**
     * GitHub mode on this fake (a second replica of the same repository): the caller made it
     * and closes it.
     */
    fake?: FakeGitHub;
    kube?: KubeReader;
    now?: () => number;
    /** Alertmanager's API as the failback gate asks it; absent: not configured. */
    alertmanager?: AlertmanagerApi;
    /** The re-examination timers (fakeTimers() runs them on demand); absent: real timers. */
    schedule?: Scheduler;
    /**
     * The loop as `serve` has it: composed by composeRuntime itself, so the Deployments and
     * ChatOps replies follow Flux (its onPhase). restart() then is not available.
     */
    composed?: boolean;
    /** GitHub mode: the repository's files (default the demo repository's). */
    files?: Record<string, string>;
  } = {},
): Promise<AutomationServer> {
  const root = await mkdtemp(join(tmpdir(), "failover-api-auto-"));
  const fake =
    options.fake ??
    (options.github
      ? await startFakeGitHub({
          files: options.files ?? demoFiles(),
          owner: "acme",
          repo: "gitops",
        })
      : undefined);
  const githubEnv: Record<string, string> = {};
  if (fake !== undefined) {
    const settings = appSettings({ fake: fake.context } as Parameters<typeof appSettings>[0]);
    settings.publicKeyPem = keys().publicKey;
    Object.assign(githubEnv, {
      GITOPS_REPOSITORY: "acme/gitops",
      APP_ID: String(settings.appId),
      PRIVATE_KEY: keys().privateKey,
      GHE_HOST: new URL(fake.webUrl).host,
      GHE_PROTOCOL: "http",
      GITHUB_WRITE_INTERVAL_MS: "0",
    });
  }
  const configPath = join(root, "services.yaml");
  await writeFile(configPath, services(await readFile(DEMO_CONFIG, "utf8")));
  const logger = pino({ level: "silent" });
  const metrics = new Metrics({ defaultMetrics: false });
  if (isDemoMode({ ...githubEnv, ...env })) await demoRepoCopy(join(root, "demo"));
  const parsed = parseEnv({
    DEMO_REPO: join(root, "demo"),
    FAILOVER_CONFIG: configPath,
    FAILOVER_CONFIG_WATCH: "false",
    FAILOVER_API_TOKENS: `alertmanager:${ALERT_TOKEN}`,
    FLUX_EVENTS_SECRET: FLUX_SECRET,
    FAILOVER_RATE_LIMIT: "0",
    // The production time bounds are sized for GitHub: on a busy machine the in-process fake
    // can pass them, and a test would fail because the machine is slow (a 504 alert).
    ...TEST_BOUNDS,
    ...githubEnv,
    ...env,
  });
  // Unless `composed`, the loop is composed here, not by composeRuntime: restart() replaces it
  // on the same runtime.
  const runtime = await composeRuntime(parsed, logger, {
    metrics,
    automation:
      options.composed === true
        ? {
            kube: options.kube,
            alertmanager: options.alertmanager,
            schedule: options.schedule,
            ...(options.now === undefined ? {} : { now: options.now }),
          }
        : false,
  });
  const operations = createOperations(parsed, runtime, logger);
  let registry = metrics.registry;
  const compose = () =>
    composeAutomation(runtime.ctx, parsed, logger, {
      registry,
      kube: options.kube,
      alertmanager: options.alertmanager,
      schedule: options.schedule,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
  let detach: (() => void)[] = [];
  const start = () => {
    if (options.composed === true) {
      const own = runtime.automation;
      if (own === undefined) throw new Error("the composition root built no closed loop");
      own.start();
      return own;
    }
    const next = compose();
    next.start();
    const events = runtime.ctx.events;
    detach = events === undefined ? [] : next.listeners.map((listener) => events.on(listener));
    return next;
  };
  let automation = start();
  // The mount reads `automation` at request time, so restart() can swap it.
  const mounted = {
    early: (auth: Parameters<Automation["early"]>[0]) => {
      const routers = new Map<Automation, ReturnType<Automation["early"]>>();
      return ((req, res, next) => {
        let r = routers.get(automation);
        if (r === undefined) {
          r = automation.early(auth);
          routers.set(automation, r);
        }
        r(req, res, next);
      }) as ReturnType<Automation["early"]>;
    },
    get router() {
      return ((req, res, next) => automation.router(req, res, next)) as Automation["router"];
    },
  };
  const server: RunningServer = await listen(
    createHttpApp(runtime.ctx, logger, { operations, automation: mounted }),
    0,
    "127.0.0.1",
  );
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  return {
    url: server.url,
    runtime,
    operations,
    registry: () => registry,
    get automation() {
      return automation;
    },
    set automation(a) {
      automation = a;
    },
    repoDir: runtime.repoLocation,
    root,
    fake,
    post,
    alert: (payload, token = ALERT_TOKEN) =>
      post("/api/alertmanager", payload, { authorization: `Bearer ${token}` }),
    fluxEvent: (event, secret = FLUX_SECRET) => {
      const body = JSON.stringify(event);
      const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
      return post("/api/flux/events", body, { "x-signature": signature });
    },
    restart: async () => {
      if (options.composed === true) throw new Error("restart() needs the harness's own loop");
      for (const off of detach) off();
      await automation.close();
      registry = new Metrics({ defaultMetrics: false }).registry;
      automation = start();
    },
    close: async () => {
      await server.close();
      await automation.close();
      operations.close();
      runtime.close();
      if (options.fake === undefined) await fake?.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

function keys() {
  return testKeyPair();
}

/** An Alertmanager webhook payload (version 4) as Alertmanager sends it. */
export function alertPayload(options: {
  status?: "firing" | "resolved";
  node: string;
  alertname?: string;
  startsAt: Date;
  endsAt?: Date;
  fingerprint?: string;
  groupKey?: string;
}) {
  const status = options.status ?? "firing";
  const alertname = options.alertname ?? "KubeNodeNotReady";
  const labels = {
    alertname,
    node: options.node,
    severity: "warning",
    namespace: "monitoring",
    prometheus: "monitoring/kube-prometheus-stack-prometheus",
  };
  return {
    receiver: "failover-api",
    status,
    alerts: [
      {
        status,
        labels,
        annotations: {
          description: `${options.node} has been unready for more than 2 minutes.`,
          runbook_url:
            "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubenodenotready",
          summary: "Node is not ready.",
        },
        startsAt: options.startsAt.toISOString(),
        endsAt: (options.endsAt ?? new Date("0001-01-01T00:00:00Z")).toISOString(),
        generatorURL: "http://prometheus.example/graph?g0.expr=kube_node_status_condition",
        fingerprint: options.fingerprint ?? "1f2e3d4c5b6a7980",
      },
    ],
    groupLabels: { alertname },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: "http://alertmanager.example:9093",
    version: "4",
    groupKey: options.groupKey ?? `{}/{failover="true"}:{alertname="${alertname}"}`,
    truncatedAlerts: 0,
  };
}

/** A kustomize-controller event as notification-controller forwards it to a generic-hmac Provider. */
export function fluxEvent(options: {
  name: string;
  namespace?: string;
  revision: string;
  severity?: "info" | "error";
  reason?: string;
  message?: string;
}) {
  return {
    involvedObject: {
      kind: "Kustomization",
      namespace: options.namespace ?? "flux-system",
      name: options.name,
      uid: "7d0cd1e1-2a3b-4c5d-8e9f-0a1b2c3d4e5f",
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      resourceVersion: "123456",
    },
    severity: options.severity ?? "info",
    timestamp: new Date().toISOString(),
    message: options.message ?? "Reconciliation finished in 1.2s, next run in 10m0s",
    reason: options.reason ?? "ReconciliationSucceeded",
    metadata: { revision: `main@sha1:${options.revision}`, summary: "" },
    reportingController: "kustomize-controller",
    reportingInstance: "kustomize-controller-6bc5d5b96-8k2x7",
  };
}

/**
 * The trigger's re-examination timers, run when the test says: `runDue()` runs every look
 * scheduled and not cancelled, each to its end (its Git reads and commit), so no test waits
 * on wall-clock time.
 */
export function fakeTimers(): {
  schedule: Scheduler;
  pending(): number;
  runDue(): Promise<number>;
} {
  const looks: { run: () => Promise<void>; cancelled: boolean }[] = [];
  return {
    schedule: (run) => {
      const look = { run, cancelled: false };
      looks.push(look);
      return () => {
        look.cancelled = true;
      };
    },
    pending: () => looks.filter((l) => !l.cancelled).length,
    runDue: async () => {
      const due = looks.splice(0).filter((l) => !l.cancelled);
      for (const look of due) await look.run();
      return due.length;
    },
  };
}

/** A gettableAlert as Alertmanager's GET /api/v2/alerts lists it (API v2). */
export function gettableAlert(options: {
  alertname: string;
  node: string;
  fingerprint: string;
  state?: "active" | "suppressed" | "unprocessed";
  startsAt?: Date;
}) {
  const startsAt = (options.startsAt ?? new Date(Date.now() - 10 * 60_000)).toISOString();
  return {
    labels: {
      alertname: options.alertname,
      node: options.node,
      failover: "true",
      severity: "warning",
    },
    annotations: { summary: "Node is not ready." },
    receivers: [{ name: "failover-api" }],
    fingerprint: options.fingerprint,
    startsAt,
    updatedAt: startsAt,
    endsAt: new Date(Date.now() + 4 * 60_000).toISOString(),
    generatorURL: "http://prometheus.example/graph",
    status: { state: options.state ?? "active", silencedBy: [], inhibitedBy: [] },
  };
}

/**
 * A fake Alertmanager serving GET /api/v2/alerts from `alerts` (what it holds as firing),
 * applying the `filter` matchers of the form label="value" as Alertmanager does; `fail`
 * makes it answer 500. Records the requests.
 */
export async function startFakeAlertmanager(): Promise<{
  url: string;
  alerts: ReturnType<typeof gettableAlert>[];
  requests: { url: string; authorization: string | undefined }[];
  fail: boolean;
  close(): Promise<void>;
}> {
  const state = {
    alerts: [] as ReturnType<typeof gettableAlert>[],
    requests: [] as { url: string; authorization: string | undefined }[],
    fail: false,
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://alertmanager");
    state.requests.push({ url: req.url ?? "", authorization: req.headers.authorization });
    if (req.method !== "GET" || url.pathname !== "/api/v2/alerts") {
      res.writeHead(404).end();
      return;
    }
    if (state.fail) {
      res.writeHead(500, { "content-type": "application/json" }).end('{"message":"down"}');
      return;
    }
    const matchers = url.searchParams.getAll("filter").map((f) => {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)="(.*)"$/.exec(f);
      if (m === null) throw new Error(`unexpected matcher ${f}`);
      return { name: m[1] ?? "", value: m[2] ?? "" };
    });
    const listed = state.alerts.filter((a) =>
      matchers.every((m) => (a.labels as Record<string, string>)[m.name] === m.value),
    );
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(listed));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}
