import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttps } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Objects the fake serves, in the API's own shapes (lists with apiVersion, kind, items). */
export interface FakeKubeState {
  replicationDestinations: Record<string, unknown[]>; // by namespace
  nodes: { name: string; labels: Record<string, string>; ready: "True" | "False" | "Unknown" }[];
}

export interface FakeKube {
  readonly url: string;
  readonly token: string;
  /** PEM of the CA that signed the server's certificate (https only). */
  readonly ca: string | undefined;
  readonly state: FakeKubeState;
  readonly requests: { path: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

/** A fake Kubernetes API: the two read-only GETs the RPO gate makes, bearer token checked. */
export async function startFakeKube(options: { https?: boolean } = {}): Promise<FakeKube> {
  const token = "fake-service-account-token";
  const state: FakeKubeState = { replicationDestinations: {}, nodes: [] };
  const requests: FakeKube["requests"] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push({
      path: `${url.pathname}${url.search}`,
      authorization: req.headers.authorization,
    });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${token}`) {
      send(401, {
        kind: "Status",
        apiVersion: "v1",
        status: "Failure",
        reason: "Unauthorized",
        code: 401,
      });
      return;
    }
    const rd =
      /^\/apis\/volsync\.backube\/v1alpha1\/namespaces\/([^/]+)\/replicationdestinations$/.exec(
        url.pathname,
      );
    if (req.method === "GET" && rd?.[1] !== undefined) {
      send(200, {
        apiVersion: "volsync.backube/v1alpha1",
        kind: "ReplicationDestinationList",
        metadata: { resourceVersion: "1000" },
        items: state.replicationDestinations[rd[1]] ?? [],
      });
      return;
    }
    if (req.method === "GET" && url.pathname === "/api/v1/nodes") {
      const [key, value] = (url.searchParams.get("labelSelector") ?? "").split("=");
      const items = state.nodes
        .filter((n) => key === undefined || key === "" || n.labels[key] === value)
        .map((n) => ({
          apiVersion: "v1",
          kind: "Node",
          metadata: { name: n.name, labels: n.labels },
          status: {
            conditions: [
              { type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory" },
              {
                type: "Ready",
                status: n.ready,
                reason: n.ready === "True" ? "KubeletReady" : "NodeStatusUnknown",
              },
            ],
          },
        }));
      send(200, {
        apiVersion: "v1",
        kind: "NodeList",
        metadata: { resourceVersion: "1000" },
        items,
      });
      return;
    }
    send(404, {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      reason: "NotFound",
      code: 404,
    });
  };
  let ca: string | undefined;
  let server: ReturnType<typeof createHttp>;
  if (options.https) {
    const certs = certificatesWithSan();
    ca = certs.ca;
    server = createHttps({ key: certs.key, cert: certs.cert }, handler);
  } else {
    server = createHttp(handler);
  }
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.https ? "https" : "http"}://127.0.0.1:${port}`,
    token,
    ca,
    state,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface Certificates {
  readonly ca: string;
  readonly key: string;
  readonly cert: string;
}

/** On globalThis: with `isolate: false` vitest evaluates this module again for every file. */
const CERTIFICATES = Symbol.for("failover-api.test.fake-kube-certificates");

/**
 * The server certificate needs 127.0.0.1 as a subjectAltName for TLS verification. Made once
 * per process, with P-256 keys: two RSA 2048 keys per fake cost about a second of CPU.
 */
function certificatesWithSan(): Certificates {
  const store = globalThis as { [CERTIFICATES]?: Certificates };
  store[CERTIFICATES] ??= makeCertificates();
  return store[CERTIFICATES];
}

function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), "fake-kube-"));
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  try {
    run(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-days",
      "1",
      "-subj",
      "/CN=fake-kube-ca",
    );
    run(
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      "server.key",
      "-out",
      "server.csr",
      "-subj",
      "/CN=kubernetes",
    );
    execFileSync("sh", ["-c", "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext"], { cwd: dir });
    run(
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "server.crt",
      "-days",
      "1",
      "-extfile",
      "san.ext",
    );
    return {
      ca: readFileSync(join(dir, "ca.crt"), "utf8"),
      key: readFileSync(join(dir, "server.key"), "utf8"),
      cert: readFileSync(join(dir, "server.crt"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
