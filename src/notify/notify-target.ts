import { FailoverError } from "../domain/errors.js";

/** What every service is sent: a title, a line of text, and the event itself (generic JSON). */
export interface NotifyMessage {
  readonly title: string;
  readonly text: string;
  /** Failures and held-back automation are `high`. */
  readonly priority: "normal" | "high";
  readonly event: Readonly<Record<string, unknown>>;
}

export interface NotifyTarget {
  readonly kind: "generic" | "discord" | "slack" | "ntfy" | "gotify";
  /** The URL with every secret removed: what logs may show. */
  readonly redacted: string;
  request(message: NotifyMessage): { url: string; init: RequestInit };
}

/** Where the hosted services are; a test (or a proxy) may point them elsewhere. */
export interface NotifyEndpoints {
  readonly discord: string;
  readonly slack: string;
}

export const DEFAULT_ENDPOINTS: NotifyEndpoints = {
  discord: "https://discord.com",
  slack: "https://hooks.slack.com",
};

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

/**
 * One shoutrrr-style URL (https://containrrr.dev/shoutrrr/services/overview/):
 * `generic+https://host/path`, `discord://token@id`, `slack://hook:A-B-C@webhook` or
 * `slack://A/B/C`, `ntfy://[user:pass@]host/topic`, `gotify://host[:port][/path]/token`.
 * The error never repeats the URL: it may hold a token.
 */
export function parseNotifyUrl(
  text: string,
  index: number,
  endpoints: NotifyEndpoints = DEFAULT_ENDPOINTS,
): NotifyTarget {
  const fail = (why: string) =>
    new FailoverError("config_invalid", `FAILOVER_NOTIFY entry ${index + 1}: ${why}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw fail("not a URL (generic+https://, discord://, slack://, ntfy://, gotify://)");
  }
  const scheme = url.protocol.replace(/:$/, "");
  const query = url.searchParams;
  const yes = (key: string) => /^(yes|true|1)$/i.test(query.get(key) ?? "");
  const segments = url.pathname.split("/").filter((s) => s !== "");
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  switch (scheme) {
    case "generic+http":
    case "generic+https": {
      const target = new URL(text.replace(/^generic\+/, ""));
      // fetch refuses a URL with credentials (and would name them in its error): user:pass@
      // becomes a Basic Authorization header.
      const basic =
        target.username === "" && target.password === ""
          ? {}
          : {
              authorization: `Basic ${Buffer.from(
                `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`,
              ).toString("base64")}`,
            };
      target.username = "";
      target.password = "";
      return {
        kind: "generic",
        redacted: `${scheme}://${url.host}/[redacted]`,
        request: (m) => ({
          url: target.toString(),
          init: json({ title: m.title, message: m.text, priority: m.priority, ...m.event }, basic),
        }),
      };
    }
    case "discord": {
      // discord://token@id -> POST /api/webhooks/{id}/{token}
      if (user === "" || url.hostname === "") throw fail("discord:// needs token@webhookid");
      const target = `${endpoints.discord}/api/webhooks/${encodeURIComponent(url.hostname)}/${encodeURIComponent(user)}`;
      return {
        kind: "discord",
        redacted: "discord://[redacted]",
        request: (m) => ({ url: target, init: json({ content: `**${m.title}**\n${m.text}` }) }),
      };
    }
    case "slack": {
      // slack://hook:A-B-C@webhook (0.7+) or slack://[botname@]A/B/C (the webhook's path).
      let parts: string[];
      if (user === "hook" && password !== "") parts = password.split("-");
      else parts = [url.hostname, ...segments];
      if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9]+$/.test(p))) {
        throw fail("slack:// needs a webhook token: slack://hook:T000-B000-XXXX@webhook");
      }
      const target = `${endpoints.slack}/services/${parts.join("/")}`;
      const botName = user !== "" && user !== "hook" ? user : query.get("botname");
      return {
        kind: "slack",
        redacted: "slack://[redacted]",
        request: (m) => ({
          url: target,
          init: json({
            text: `*${m.title}*\n${m.text}`,
            ...(botName === null || botName === "" ? {} : { username: botName }),
          }),
        }),
      };
    }
    case "ntfy": {
      const topic = segments.at(-1);
      if (topic === undefined) throw fail("ntfy:// needs a topic: ntfy://host/topic");
      const host = url.host === "" ? "ntfy.sh" : url.host;
      const base = query.get("scheme") === "http" ? "http" : "https";
      const prefix = segments.slice(0, -1).join("/");
      const target = `${base}://${host}/${prefix === "" ? "" : `${prefix}/`}${encodeURIComponent(topic)}`;
      const auth =
        user === "" && password !== ""
          ? `Bearer ${password}`
          : user !== ""
            ? `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`
            : undefined;
      return {
        kind: "ntfy",
        redacted: `ntfy://${host}/[redacted]`,
        request: (m) => ({
          url: target,
          init: {
            method: "POST",
            headers: {
              "content-type": "text/plain; charset=utf-8",
              Title: asciiHeader(m.title),
              Priority: m.priority === "high" ? "high" : "default",
              Tags: m.priority === "high" ? "warning" : "arrows_counterclockwise",
              ...(auth === undefined ? {} : { Authorization: auth }),
            },
            body: m.text,
          },
        }),
      };
    }
    case "gotify": {
      const token = segments.at(-1);
      if (token === undefined || url.host === "") throw fail("gotify:// needs host and token");
      const base = yes("disabletls") ? "http" : "https";
      const prefix = segments.slice(0, -1).join("/");
      const target = `${base}://${url.host}/${prefix === "" ? "" : `${prefix}/`}message`;
      return {
        kind: "gotify",
        redacted: `gotify://${url.host}/[redacted]`,
        request: (m) => ({
          url: target,
          init: json(
            { title: m.title, message: m.text, priority: m.priority === "high" ? 8 : 4 },
            { "X-Gotify-Key": token },
          ),
        }),
      };
    }
    default:
      throw fail(`unsupported scheme ${scheme}:// (generic+https, discord, slack, ntfy, gotify)`);
  }
}

/** `FAILOVER_NOTIFY`: comma-separated URLs; blanks skipped. */
export function parseNotifyUrls(
  value: string | undefined,
  endpoints: NotifyEndpoints = DEFAULT_ENDPOINTS,
): NotifyTarget[] {
  if (value === undefined) return [];
  const urls = value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
  if (urls.length === 0) {
    // Set but empty (a template left unfilled): notifications would be off without a word.
    throw new FailoverError(
      "config_invalid",
      "FAILOVER_NOTIFY is set but holds no URL: give one or more comma-separated URLs, or unset it",
    );
  }
  return urls.map((v, i) => parseNotifyUrl(v, i, endpoints));
}

/** HTTP header values are Latin-1; ntfy reads RFC 2047 for the rest, plain ASCII is enough here. */
function asciiHeader(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
}
