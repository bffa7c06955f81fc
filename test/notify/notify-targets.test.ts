import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FailoverError } from "../../src/domain/errors.js";
import { Notifier } from "../../src/notify/notifier.js";
import {
  type NotifyMessage,
  parseNotifyUrl,
  parseNotifyUrls,
} from "../../src/notify/notify-target.js";
import { type Received, startSink } from "../automation/automation-server.js";

const MESSAGE: NotifyMessage = {
  title: "failover promote confirmed: sonarr",
  text: "Flux applied 0123456789ab in 42.0 s (flux-system/apps)",
  priority: "high",
  event: { type: "confirmed", operation: "op-1", services: ["sonarr"] },
};

describe("notification URLs, each against a local sink speaking the service's request shape", () => {
  let sink: Awaited<ReturnType<typeof startSink>>;
  let host: string;
  beforeAll(async () => {
    sink = await startSink(200);
    host = new URL(sink.url).host;
  });
  afterAll(() => sink?.close());

  async function deliver(url: string): Promise<Received> {
    const before = sink.received.length;
    const notifier = new Notifier({
      targets: parseNotifyUrls(url, { discord: sink.url, slack: sink.url }),
      timeoutMs: 5000,
      logger: pino({ level: "silent" }),
    });
    notifier.send(MESSAGE);
    await notifier.flush();
    const got = sink.received[before];
    if (got === undefined) throw new Error("nothing delivered");
    return got;
  }

  it("generic+http posts the event as JSON to the URL", async () => {
    const r = await deliver(`generic+http://${host}/hooks/failover?x=1`);
    expect(r.path).toBe("/hooks/failover?x=1");
    expect(r.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(r.body)).toMatchObject({
      title: MESSAGE.title,
      message: MESSAGE.text,
      type: "confirmed",
      operation: "op-1",
    });
  });

  it("generic+http with user:pass@ sends them as Basic auth, never in the URL", async () => {
    const r = await deliver(`generic+http://hook%40user:p%3Ass@${host}/hooks/failover`);
    expect(r.path).toBe("/hooks/failover");
    expect(r.headers.authorization).toBe(
      `Basic ${Buffer.from("hook@user:p:ss").toString("base64")}`,
    );
  });

  it("FAILOVER_NOTIFY set but empty is refused, not read as no notifications", () => {
    for (const value of ["", " ", ",", " , "]) {
      expect(() => parseNotifyUrls(value)).toThrow(/FAILOVER_NOTIFY is set but holds no URL/);
    }
    expect(parseNotifyUrls(undefined)).toEqual([]);
  });

  it("discord://token@id posts {content} to /api/webhooks/{id}/{token}", async () => {
    const r = await deliver("discord://s3cr3t-token@112233445566778899");
    expect(r.path).toBe("/api/webhooks/112233445566778899/s3cr3t-token");
    expect(JSON.parse(r.body)).toEqual({ content: `**${MESSAGE.title}**\n${MESSAGE.text}` });
  });

  it.each([
    "slack://hook:T00000000-B00000000-XXXXXXXXXXXXXXXXXXXXXXXX@webhook",
    "slack://T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
  ])("%s posts {text} to /services/T/B/X", async (url) => {
    const r = await deliver(url);
    expect(r.path).toBe("/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX");
    expect(JSON.parse(r.body)).toMatchObject({ text: `*${MESSAGE.title}*\n${MESSAGE.text}` });
  });

  it("ntfy://user:pass@host/topic posts the text with Title and Priority headers", async () => {
    const r = await deliver(`ntfy://alice:pa55@${host}/homelab-failover?scheme=http`);
    expect(r.path).toBe("/homelab-failover");
    expect(r.body).toBe(MESSAGE.text);
    expect(r.headers.title).toBe(MESSAGE.title);
    expect(r.headers.priority).toBe("high");
    expect(r.headers.authorization).toBe(`Basic ${Buffer.from("alice:pa55").toString("base64")}`);
  });

  it("ntfy://:token@host/topic sends the access token as a bearer token", async () => {
    const r = await deliver(`ntfy://:tk_abc123@${host}/t?scheme=http`);
    expect(r.headers.authorization).toBe("Bearer tk_abc123");
  });

  it("gotify://host/path/token posts {title,message,priority} to /path/message with the app token", async () => {
    const r = await deliver(`gotify://${host}/gotify/AzyoeNS.D4iJLVa?disabletls=yes`);
    expect(r.path).toBe("/gotify/message");
    expect(r.headers["x-gotify-key"]).toBe("AzyoeNS.D4iJLVa");
    expect(JSON.parse(r.body)).toEqual({
      title: MESSAGE.title,
      message: MESSAGE.text,
      priority: 8,
    });
  });

  it("a failed delivery is logged with the redacted URL only", async () => {
    const failing = await startSink(500);
    const lines: string[] = [];
    const logger = pino(
      { level: "info" },
      new Writable({
        write(chunk: Buffer, _e, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const notifier = new Notifier({
      targets: parseNotifyUrls(
        `gotify://${new URL(failing.url).host}/SECRET-APP-TOKEN?disabletls=yes`,
      ),
      timeoutMs: 5000,
      logger,
    });
    notifier.send(MESSAGE);
    await notifier.flush();
    await failing.close();
    const text = lines.join("");
    expect(text).toContain("notification not delivered");
    expect(text).toContain("[redacted]");
    expect(text).not.toContain("SECRET-APP-TOKEN");
  });
});

describe("FAILOVER_NOTIFY parsing", () => {
  it("reads a comma-separated list, blanks skipped", () => {
    const targets = parseNotifyUrls(" discord://t@1 , ,ntfy://ntfy.sh/x ");
    expect(targets.map((t) => t.kind)).toEqual(["discord", "ntfy"]);
    expect(targets.map((t) => t.redacted)).toEqual([
      "discord://[redacted]",
      "ntfy://ntfy.sh/[redacted]",
    ]);
  });

  it.each([
    ["telegram://token@telegram", "unsupported scheme"],
    ["not a url", "not a URL"],
    ["slack://only-one-part", "webhook token"],
    ["discord://@1234", "token@webhookid"],
  ])("refuses %s without repeating it", (url, why) => {
    let error: unknown;
    try {
      parseNotifyUrl(url, 0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FailoverError);
    expect((error as FailoverError).code).toBe("config_invalid");
    expect((error as Error).message).toContain(why);
    expect((error as Error).message).not.toContain(url);
  });
});
