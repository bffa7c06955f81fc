import { z } from "zod";

/**
 * Alertmanager's API v2, read only: `GET /api/v2/alerts` (documented in its openapi.yaml).
 * Only the fields read are in the schema; `status.state` is `active`, `suppressed`
 * (silenced or inhibited: still firing) or `unprocessed` (received, not yet routed: firing).
 */
const gettableAlerts = z.array(
  z.object({
    labels: z.record(z.string(), z.string()),
    fingerprint: z.string(),
    startsAt: z.string(),
    status: z.object({ state: z.enum(["active", "suppressed", "unprocessed"]) }),
  }),
);
export type GettableAlert = z.infer<typeof gettableAlerts>[number];

/** The Alertmanager alerts this process can ask about (read only). */
export interface AlertmanagerApi {
  /**
   * The alerts Alertmanager holds as firing (active, silenced, inhibited or unprocessed)
   * whose label `label` equals `value`. Throws when Alertmanager cannot be asked or answers
   * something else: the caller cannot tell, and fails closed.
   */
  firingAlerts(label: string, value: string): Promise<GettableAlert[]>;
}

export interface AlertmanagerApiOptions {
  /** FAILOVER_ALERTMANAGER_URL: `http://alertmanager-operated.monitoring.svc:9093`. */
  readonly url: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** A label name Alertmanager's matcher syntax takes unquoted. */
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function alertmanagerApi(options: AlertmanagerApiOptions): AlertmanagerApi {
  const base = new URL(options.url);
  // fetch refuses URLs with credentials: basic auth from the URL becomes a header.
  const authorization =
    base.username === ""
      ? undefined
      : `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString("base64")}`;
  base.username = "";
  base.password = "";
  const send = options.fetch ?? fetch;
  const where = `${base.protocol}//${base.host}`; // for messages: never the credentials
  return {
    firingAlerts: async (label, value) => {
      // Values go between double quotes; one that would need escaping is not asked about.
      if (!LABEL_NAME.test(label) || /["\\\n]/.test(value)) {
        throw new Error(`cannot ask Alertmanager about ${label}=${JSON.stringify(value)}`);
      }
      const url = new URL("api/v2/alerts", base.href.endsWith("/") ? base : `${base.href}/`);
      for (const flag of ["active", "silenced", "inhibited", "unprocessed"]) {
        url.searchParams.set(flag, "true");
      }
      url.searchParams.append("filter", `${label}="${value}"`);
      let response: Response;
      try {
        response = await send(url, {
          headers: {
            accept: "application/json",
            ...(authorization === undefined ? {} : { authorization }),
          },
          signal: AbortSignal.timeout(options.timeoutMs ?? 3000),
        });
      } catch (error) {
        throw new Error(`Alertmanager ${where}: ${(error as Error).message}`, { cause: error });
      }
      if (!response.ok) throw new Error(`Alertmanager ${where}: HTTP ${response.status}`);
      let body: unknown;
      try {
        body = await response.json();
      } catch {
        throw new Error(`Alertmanager ${where}: not JSON`);
      }
      const parsed = gettableAlerts.safeParse(body);
      if (!parsed.success) throw new Error(`Alertmanager ${where}: not a list of alerts`);
      // Alertmanager leaves resolved alerts out of this list (its alert filter drops an alert
      // whose endsAt has passed), so every one listed fires.
      return parsed.data;
    },
  };
}
