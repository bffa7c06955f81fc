import { isIP } from "node:net";
import type { Request, RequestHandler } from "express";
import { FailoverError } from "../domain/errors.js";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Host names no one else can point a browser at: loopback, a single label (a Kubernetes
 * Service in the same namespace), the cluster's own DNS and the names reserved for home
 * and private networks. An attacker's page can only rebind a name it owns (a public one).
 */
const PRIVATE_SUFFIXES = [".svc", ".cluster.local", ".home.arpa", ".internal", ".lan", ".local"];

export function isPrivateHost(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined || hostHeader === "") return false;
  const host = hostHeader
    .replace(/:\d+$/, "")
    .replace(/^\[(.*)\]$/, "$1")
    .toLowerCase();
  if (isIP(host) !== 0) return true;
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (!host.includes(".")) return /^[a-z0-9-]+$/.test(host);
  return PRIVATE_SUFFIXES.some((suffix) => host.endsWith(suffix));
}

/** No `Origin` (curl, Home Assistant), or the server's own. `Origin: null` is not. */
export function sameOrigin(req: Request): boolean {
  const origin = req.get("origin");
  if (origin === undefined) return true;
  const host = req.get("host");
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}

/**
 * Refuses writes a browser sends on another site's behalf (403, before any body is read).
 * A page elsewhere can POST an empty form to `http://127.0.0.1:8080/api/failover/x/promote`;
 * with tokens that fails anyway (a form cannot send `Authorization`), without tokens (the
 * demo, a cluster run without auth) it would be a real failover. Browsers mark such requests
 * with `Sec-Fetch-Site` and `Origin`; curl, Home Assistant, Alertmanager, Flux and GitHub
 * send neither. DNS rebinding makes `Origin` match `Host`, so without tokens a write must
 * also name a private host (isPrivateHost).
 */
export function crossSiteWrites(options: { readonly authEnabled: () => boolean }): RequestHandler {
  return (req, _res, next) => {
    if (SAFE.has(req.method)) return next();
    const site = req.get("sec-fetch-site");
    if (site === "cross-site" || site === "same-site") {
      return next(
        new FailoverError("forbidden", `a write from another site (Sec-Fetch-Site: ${site})`),
      );
    }
    if (!sameOrigin(req)) {
      const origin = req.get("origin");
      return next(
        new FailoverError(
          "forbidden",
          origin === "null"
            ? "a write from an opaque origin (Origin: null)"
            : "a write from another origin",
        ),
      );
    }
    const host = req.get("host");
    if (!options.authEnabled() && !isPrivateHost(host)) {
      return next(
        new FailoverError(
          "forbidden",
          `writes without API tokens are accepted only on a private host name (localhost, an IP, a cluster or home-network name), not ${JSON.stringify(host ?? "")}: set FAILOVER_API_TOKENS`,
        ),
      );
    }
    next();
  };
}
