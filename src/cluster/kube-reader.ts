import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Read-only access to the Kubernetes API: a few GETs, no client library. */
export interface KubeReader {
  get(path: string): Promise<unknown>;
}

/** A value given once, or read again before each request (a file the kubelet rewrites). */
export type Fresh = string | (() => Promise<string>);

export interface KubeReaderOptions {
  /** `https://10.43.0.1:443`; tests may give `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** The bearer token; a function is called before every request. */
  readonly token: Fresh;
  /** PEM of the API server's CA (the service account's ca.crt); a function: before every request. */
  readonly ca?: Fresh | undefined;
  readonly timeoutMs?: number;
}

/**
 * The in-cluster reader, from KUBERNETES_SERVICE_HOST/PORT and the mounted service account;
 * undefined outside a cluster (then RPO is unknown and everything works as without it).
 * The token and CA files are read at start only to tell whether they are there, then again
 * before every request: the kubelet rotates a projected token (about hourly) and the API
 * server refuses the old one once it expires; the CA bundle is rewritten on a CA rotation.
 * Two small file reads beside a network call cost nothing worth caching.
 */
export function inClusterReader(
  env: NodeJS.ProcessEnv = process.env,
  dir = SERVICE_ACCOUNT_DIR,
): KubeReader | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  if (host === undefined || host === "") return undefined;
  try {
    readFileSync(`${dir}/token`, "utf8");
    readFileSync(`${dir}/ca.crt`, "utf8");
  } catch {
    return undefined;
  }
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  const bracketed = host.includes(":") ? `[${host}]` : host;
  return kubeReader({
    baseUrl: `https://${bracketed}:${port}`,
    token: async () => (await readFile(`${dir}/token`, "utf8")).trim(),
    ca: () => readFile(`${dir}/ca.crt`, "utf8"),
  });
}

/** A Fresh value as it is now; a file that cannot be read fails the request, naming it. */
async function current(value: Fresh, what: string, path: string): Promise<string> {
  if (typeof value !== "function") return value;
  try {
    return await value();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new Error(
      `Kubernetes API ${path}: cannot read the service account's ${what}${typeof code === "string" ? ` (${code})` : ""}`,
    );
  }
}

export function kubeReader(options: KubeReaderOptions): KubeReader {
  const base = new URL(options.baseUrl);
  const send = base.protocol === "https:" ? httpsRequest : httpRequest;
  const request = (path: string, token: string, ca: string | undefined) =>
    new Promise<unknown>((resolve, reject) => {
      const req = send(
        new URL(path, base),
        {
          method: "GET",
          headers: { authorization: `Bearer ${token}`, accept: "application/json" },
          ...(ca === undefined ? {} : { ca }),
          timeout: options.timeoutMs ?? 3000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) {
              reject(new Error(`Kubernetes API ${path}: HTTP ${status}`));
              return;
            }
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
            } catch {
              reject(new Error(`Kubernetes API ${path}: not JSON`));
            }
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`Kubernetes API ${path}: timed out`)));
      req.on("error", reject);
      req.end();
    });
  return {
    get: async (path) => {
      const [token, ca] = await Promise.all([
        current(options.token, "token", path),
        options.ca === undefined ? undefined : current(options.ca, "CA certificate", path),
      ]);
      return request(path, token, ca);
    },
  };
}
