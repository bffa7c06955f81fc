import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Read-only access to the Kubernetes API: a few GETs, no client library. */
export interface KubeReader {
  get(path: string): Promise<unknown>;
}

export interface KubeReaderOptions {
  /** `https://10.43.0.1:443`; tests may give `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  readonly token: string;
  /** PEM of the API server's CA (the service account's ca.crt). */
  readonly ca?: string | undefined;
  readonly timeoutMs?: number;
}

/**
 * The in-cluster reader, from KUBERNETES_SERVICE_HOST/PORT and the mounted service account;
 * undefined outside a cluster (then RPO is unknown and everything works as without it).
 */
export function inClusterReader(
  env: NodeJS.ProcessEnv = process.env,
  dir = SERVICE_ACCOUNT_DIR,
): KubeReader | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  if (host === undefined || host === "") return undefined;
  try {
    const token = readFileSync(`${dir}/token`, "utf8").trim();
    const ca = readFileSync(`${dir}/ca.crt`, "utf8");
    const port = env.KUBERNETES_SERVICE_PORT ?? "443";
    const bracketed = host.includes(":") ? `[${host}]` : host;
    return kubeReader({ baseUrl: `https://${bracketed}:${port}`, token, ca });
  } catch {
    return undefined;
  }
}

export function kubeReader(options: KubeReaderOptions): KubeReader {
  const base = new URL(options.baseUrl);
  const send = base.protocol === "https:" ? httpsRequest : httpRequest;
  return {
    get: (path) =>
      new Promise((resolve, reject) => {
        const req = send(
          new URL(path, base),
          {
            method: "GET",
            headers: { authorization: `Bearer ${options.token}`, accept: "application/json" },
            ...(options.ca === undefined ? {} : { ca: options.ca }),
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
      }),
  };
}
