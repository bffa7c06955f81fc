import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  COMMAND_KINDS,
  MAX_COMMAND_COMMENT,
  type ParsedCommand,
  parseCommand,
  USAGE,
} from "../../src/domain/command.js";
import { commandFromComment } from "../../src/domain/commands/from-comment.js";
import { commandFromDispatch, dispatchRequestId } from "../../src/domain/commands/from-dispatch.js";
import { codePointString } from "../helpers/code-point-string.js";
import { fuzzRuns } from "../helpers/fuzz-runs.js";

const failover = (
  service: string,
  action: "promote" | "demote",
  options: { dryRun?: boolean; mode?: "urgent" | "pr"; acceptDataLoss?: boolean } = {},
): ParsedCommand => ({
  kind: "failover",
  service,
  action,
  dryRun: options.dryRun ?? false,
  mode: options.mode,
  acceptDataLoss: options.acceptDataLoss ?? false,
});
const status = (service: string): ParsedCommand => ({ kind: "status", service });
const usage = (fragment: string) => ({ kind: "usage", problem: expect.stringContaining(fragment) });

const NAME_63 = `a${"b".repeat(61)}c`;
const NAME_64 = `a${"b".repeat(62)}c`;

// name, comment body, expected result (null: the bot stays silent).
const CASES: ReadonlyArray<readonly [string, string, unknown]> = [
  // No command at all.
  ["empty body", "", null],
  ["plain text", "Looks good to me, thanks!", null],
  ["keyword mid-sentence", "please run /failover sonarr promote", null],
  ["keyword as a plural", "/failovers sonarr promote", null],
  ["keyword glued to a word", "x/failover sonarr promote", null],
  ["keyword followed by punctuation", "/failover: sonarr promote", null],
  ["inside inline code", "`/failover sonarr promote`", null],
  ["as a list item", "- /failover sonarr promote", null],
  // The commands.
  ["promote", "/failover sonarr promote", failover("sonarr", "promote")],
  ["demote", "/failover sonarr demote", failover("sonarr", "demote")],
  ["status", "/failover sonarr status", status("sonarr")],
  ["list", "/failover list", { kind: "list" }],
  ["help", "/failover help", { kind: "help" }],
  [
    "keyword, action and flags ignore case",
    "/FailOver sonarr PROMOTE --DRY-RUN",
    failover("sonarr", "promote", { dryRun: true }),
  ],
  ["list ignores case", "/FAILOVER LIST", { kind: "list" }],
  ["leading spaces", "   /failover sonarr promote", failover("sonarr", "promote")],
  ["leading tab: an indented code block", "\t/failover sonarr demote", null],
  ["indented four spaces: an indented code block", "    /failover sonarr status", null],
  [
    "trailing and repeated spaces",
    "/failover   sonarr   promote   ",
    failover("sonarr", "promote"),
  ],
  ["service with digits and dashes", "/failover my-app-2 promote", failover("my-app-2", "promote")],
  ["service of 63 characters", `/failover ${NAME_63} status`, status(NAME_63)],
  // Flags.
  [
    "--dry-run",
    "/failover sonarr promote --dry-run",
    failover("sonarr", "promote", { dryRun: true }),
  ],
  [
    "--dryrun",
    "/failover sonarr promote --dryrun",
    failover("sonarr", "promote", { dryRun: true }),
  ],
  [
    "--dry-run=true",
    "/failover sonarr demote --dry-run=true",
    failover("sonarr", "demote", { dryRun: true }),
  ],
  ["--dry-run=false", "/failover sonarr demote --dry-run=false", failover("sonarr", "demote")],
  [
    "--urgent",
    "/failover sonarr promote --urgent",
    failover("sonarr", "promote", { mode: "urgent" }),
  ],
  ["--pr", "/failover sonarr demote --pr", failover("sonarr", "demote", { mode: "pr" })],
  [
    "all flags, before the action",
    "/failover sonarr --pr --dry-run promote",
    failover("sonarr", "promote", { dryRun: true, mode: "pr" }),
  ],
  [
    "a repeated flag",
    "/failover sonarr promote --pr --pr",
    failover("sonarr", "promote", { mode: "pr" }),
  ],
  // Malformed /failover lines: a usage reply.
  ["keyword alone", "/failover", usage("missing service and action")],
  ["flags only", "/failover --dry-run", usage("missing service")],
  ["missing action", "/failover sonarr", usage("missing action for sonarr")],
  ["unknown action", "/failover sonarr promot", usage("unknown action `promot`")],
  ["action before service", "/failover promote sonarr", usage("write the service first")],
  [
    "extra words",
    "/failover sonarr promote now please",
    usage("unexpected extra words `now` `please`"),
  ],
  ["unknown flag", "/failover sonarr promote --force", usage("unknown flag `--force`")],
  [
    "accept-data-loss takes no value",
    "/failover sonarr promote --accept-data-loss=yes",
    usage("unknown flag `--accept-data-loss=yes`"),
  ],
  ["single-dash flag", "/failover sonarr promote -n", usage("unknown flag `-n`")],
  ["both --urgent and --pr", "/failover sonarr promote --urgent --pr", usage("exclude each other")],
  ["bad --dry-run value", "/failover sonarr promote --dry-run=maybe", usage("takes true or false")],
  ["contradicting --dry-run", "/failover sonarr promote --dry-run --dry-run=false", usage("twice")],
  ["flags on status", "/failover sonarr status --pr", usage("status takes no flags")],
  ["flags on list", "/failover list --dry-run", usage("`list` takes no arguments")],
  ["words after help", "/failover help me", usage("`help` takes no arguments")],
  ["uppercase service", "/failover Sonarr promote", usage("use lowercase: `sonarr`")],
  ["underscore in service", "/failover my_app promote", usage("`my_app` is not a service name")],
  ["service ending in a dash", "/failover app- status", usage("is not a service name")],
  ["service of 64 characters", `/failover ${NAME_64} status`, usage("longer than 63")],
  ["emoji as service", "/failover 🚀 promote", usage("is not a service name")],
  [
    "typographic dash from autocorrect",
    "/failover sonarr promote —dry-run",
    usage("typographic dash"),
  ],
  // Where the command sits in the comment.
  [
    "on a later line",
    "Node A is down.\n/failover sonarr promote\nThanks!",
    failover("sonarr", "promote"),
  ],
  ["first command wins", "/failover sonarr status\n/failover radarr promote", status("sonarr")],
  [
    "first command wins even when malformed",
    "/failover sonarr promot\n/failover sonarr promote",
    usage("unknown action"),
  ],
  [
    "CRLF line ends",
    "Hi\r\n/failover sonarr promote --pr\r\n",
    failover("sonarr", "promote", { mode: "pr" }),
  ],
  ["lone CR line ends", "Hi\r/failover sonarr status\r", status("sonarr")],
  ["in a ``` fence", "```\n/failover sonarr promote\n```", null],
  [
    "after a ~~~ fence with info",
    "~~~text\n/failover sonarr promote\n~~~\n/failover radarr status",
    status("radarr"),
  ],
  [
    "a shorter fence does not close a longer one",
    "````\n```\n/failover sonarr promote\n````",
    null,
  ],
  ["in an unclosed fence", "Log:\n```\n/failover sonarr promote", null],
  ["quoted", "> /failover sonarr promote", null],
  ["quoted with leading space", "  >/failover sonarr promote", null],
  [
    "a quoted command, then one's own",
    "> /failover sonarr promote\n\n/failover sonarr status",
    status("sonarr"),
  ],
  ["hidden in an HTML comment", "<!-- /failover sonarr promote -->", null],
  ["hidden in a multi-line HTML comment", "<!--\n/failover sonarr promote\n-->", null],
  [
    "after an HTML comment",
    "<!-- template -->\n<!--\nx\n-->\n/failover sonarr status",
    status("sonarr"),
  ],
  ["with a trailing HTML comment", "/failover sonarr status <!-- why -->", status("sonarr")],
  // Unicode: decided in src/domain/command.ts.
  ["BOM at the start", "\ufeff/failover sonarr status", status("sonarr")],
  [
    "non-breaking spaces separate words",
    "/failover\u00a0sonarr\u00a0promote",
    failover("sonarr", "promote"),
  ],
  ["ideographic space separates words", "/failover\u3000sonarr status", status("sonarr")],
  ["zero-width space before the keyword", "\u200b/failover sonarr promote", null],
  ["zero-width space after the keyword", "/failover\u200bsonarr promote", usage("invisible")],
  ["zero-width space inside the service", "/failover son\u200barr promote", usage("invisible")],
  ["right-to-left mark", "/failover sonarr promote\u200f", usage("invisible")],
  ["right-to-left override", "/failover \u202eetomed sonarr", usage("invisible")],
  ["fullwidth slash", "\uff0ffailover sonarr promote", null],
  [
    "fullwidth letters in the service",
    "/failover \uff53onarr promote",
    usage("is not a service name"),
  ],
  ["dotted capital I in the keyword", "/FA\u0130LOVER sonarr promote", null],
  ["control character", "/failover sonarr\u0000 promote", usage("control characters")],
];

describe("parseCommand", () => {
  it.each(CASES)("%s", (_name, body, expected) => {
    expect(parseCommand(body)).toEqual(expected);
  });

  it("keeps usage problems short, whatever was typed", () => {
    const result = parseCommand(
      `/failover sonarr promote ${"x".repeat(10_000)} ${"y ".repeat(100)}`,
    );
    expect(result?.kind).toBe("usage");
    expect(result?.kind === "usage" && result.problem.length).toBeLessThan(400);
  });

  describe("on 1 MB bodies", () => {
    const MB = 1024 * 1024;

    it("does not parse a long comment with a command line: a usage reply says why", () => {
      const filler = "lorem ipsum dolor sit amet /failover\n".repeat(MB / 37);
      expect(parseCommand(`${filler}/failover sonarr promote`)).toEqual(usage("longer than 8192"));
      expect(parseCommand(`/failover sonarr promote ${"a ".repeat(MB / 2)}`)).toEqual(
        usage("longer than 8192"),
      );
    });

    it("finds a command after filler within the limit", () => {
      const filler = "lorem ipsum dolor sit amet /failover\n".repeat(200);
      expect(parseCommand(`${filler}\n/failover sonarr promote`)).toEqual(
        failover("sonarr", "promote"),
      );
      expect(MAX_COMMAND_COMMENT).toBe(8192);
    });

    it.each([
      ["unclosed HTML comments", "<!--".repeat(MB / 4)],
      ["fence markers", "```\n~~~~\n".repeat(MB / 9)],
      ["glued keywords", "/failover".repeat(MB / 9)],
      ["quote markers", ">".repeat(MB)],
      ["blank lines", "\r\n".repeat(MB / 2)],
    ])("answers null on %s", (_name, body) => {
      // No timed assertion (the machine may be busy): a parser quadratic in these shapes
      // would spend hours on a megabyte and end at the test timeout instead.
      expect(parseCommand(body)).toBeNull();
    });
  });

  describe("properties", () => {
    const kinds: readonly string[] = COMMAND_KINDS;
    const isWellFormed = (result: ParsedCommand | null): boolean =>
      result === null ||
      (kinds.includes(result.kind) &&
        (result.kind !== "usage" || result.problem.length > 0) &&
        (result.kind !== "failover" && result.kind !== "status"
          ? true
          : /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(result.service) && result.service.length <= 63));

    it("never throws on arbitrary strings, and returns null or a known kind", () => {
      fc.assert(
        fc.property(codePointString({ maxLength: 300 }), (body) => {
          expect(isWellFormed(parseCommand(body))).toBe(true);
        }),
        { numRuns: fuzzRuns(2000) },
      );
    });

    const fragment = fc.constantFrom(
      "/failover",
      "/FAILOVER",
      " ",
      "\t",
      "\n",
      "\r\n",
      "\r",
      "sonarr",
      "Sonarr",
      "promote",
      "demote",
      "status",
      "list",
      "help",
      "--dry-run",
      "--dryrun=false",
      "--urgent",
      "--pr",
      "-",
      "=",
      "```",
      "~~~",
      ">",
      "<!--",
      "-->",
      "\u00a0",
      "\u200b",
      "\u200f",
      "\ufeff",
      "\uff0f",
      "—",
      "🚀",
    );

    it("never throws on command-shaped strings", () => {
      fc.assert(
        fc.property(fc.array(fragment, { maxLength: 40 }), (parts) => {
          expect(isWellFormed(parseCommand(parts.join("")))).toBe(true);
        }),
        { numRuns: fuzzRuns(5000) },
      );
    });

    it("parses every well-formed failover command it is given", () => {
      const service = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      const flag = fc.constantFrom(
        "--dry-run",
        "--dryrun",
        "--dry-run=true",
        "--urgent",
        "--pr",
        "--accept-data-loss",
      );
      fc.assert(
        fc.property(
          service,
          fc.constantFrom("promote" as const, "demote" as const),
          fc.uniqueArray(flag, { maxLength: 3 }),
          fc.constantFrom(" ", "  ", "\t", "\u00a0"),
          (name, action, flags, space) => {
            fc.pre(name !== "list" && name !== "help");
            fc.pre(!(flags.includes("--urgent") && flags.includes("--pr")));
            const body = ["/failover", name, action, ...flags].join(space);
            const dryRun = flags.some((f) => f.startsWith("--dry"));
            const mode = flags.includes("--urgent")
              ? "urgent"
              : flags.includes("--pr")
                ? "pr"
                : undefined;
            expect(parseCommand(`Please:\n${body}\n`)).toEqual({
              kind: "failover",
              service: name,
              action,
              dryRun,
              mode,
              acceptDataLoss: flags.includes("--accept-data-loss"),
            });
          },
        ),
        { numRuns: fuzzRuns(1000) },
      );
    });
  });
});

describe("USAGE", () => {
  it("lists every command with an example", () => {
    for (const command of [
      "/failover <service> promote",
      "/failover <service> demote",
      "/failover <service> status",
      "/failover list",
      "/failover help",
      "`/failover sonarr promote`",
      "--dry-run",
      "--urgent",
      "--pr",
    ]) {
      expect(USAGE).toContain(command);
    }
  });

  it("shows examples that parse", () => {
    const examples = [...USAGE.matchAll(/\| `(\/failover [^`]*)` \|$/gm)].map((m) => m[1] ?? "");
    expect(examples.length).toBe(9);
    for (const example of examples) {
      const result = parseCommand(example);
      expect(result).not.toBeNull();
      expect(result?.kind).not.toBe("usage");
    }
  });
});

describe("node, lock, unlock and history commands", () => {
  it.each([
    [
      "/failover node k3s-w1 promote",
      {
        kind: "node",
        node: "k3s-w1",
        action: "promote",
        dryRun: false,
        mode: undefined,
        acceptDataLoss: false,
      },
    ],
    [
      "/failover node primary demote --dry-run --pr",
      {
        kind: "node",
        node: "primary",
        action: "demote",
        dryRun: true,
        mode: "pr",
        acceptDataLoss: false,
      },
    ],
    [
      "/failover node k3s-w1 status",
      { kind: "usage", problem: expect.stringMatching(/promote or demote/) },
    ],
    ["/failover node", { kind: "usage", problem: expect.stringMatching(/missing node/) }],
    [
      "/failover node bad/name promote",
      { kind: "usage", problem: expect.stringMatching(/not a node name/) },
    ],
    [
      "/failover lock sonarr NAS maintenance until 18:00",
      { kind: "lock", service: "sonarr", reason: "NAS maintenance until 18:00" },
    ],
    ["/failover lock sonarr", { kind: "lock", service: "sonarr", reason: "" }],
    ["/failover unlock sonarr", { kind: "unlock", service: "sonarr" }],
    [
      "/failover unlock sonarr now",
      { kind: "usage", problem: expect.stringMatching(/only the service/) },
    ],
    ["/failover lock Sonarr", { kind: "usage", problem: expect.stringMatching(/lowercase/) }],
    ["/failover sonarr history", { kind: "history", service: "sonarr" }],
    [
      "/failover sonarr history --dry-run",
      { kind: "usage", problem: expect.stringMatching(/history takes no flags/) },
    ],
  ])("%s", (body, expected) => {
    expect(parseCommand(body)).toEqual(expected);
  });
});

describe("lock and unlock take no flags (a flag is never part of the reason)", () => {
  const lock = (reason: string) => ({ kind: "lock", service: "sonarr", reason });
  it.each([
    // The review finding: this wrote a real lock with the reason `--dry-run`.
    ["/failover lock sonarr --dry-run", usage("lock has no dry run, found `--dry-run`")],
    ["/failover lock sonarr --dry-run", usage("nothing was locked")],
    ["/failover lock sonarr NAS work --dry-run", usage("lock has no dry run")],
    [
      "/failover lock sonarr --DRY-RUN=true NAS",
      usage("lock has no dry run, found `--DRY-RUN=true`"),
    ],
    ["/failover lock sonarr --dryrun", usage("lock has no dry run")],
    ["/failover lock sonarr -n", usage("lock has no dry run, found `-n`")],
    ["/failover lock --dry-run sonarr", usage("lock has no dry run")],
    ["/failover --dry-run lock sonarr", usage("lock takes no flags, found `--dry-run`")],
    ["/failover lock sonarr --force", usage("lock takes no flags, found `--force`")],
    ["/failover lock sonarr --force", usage("`/failover lock sonarr -- --force`")],
    ["/failover lock sonarr NAS --urgent", usage("lock takes no flags, found `--urgent`")],
    ["/failover lock sonarr NAS -x", usage("found `-x`")],
    ["/failover lock sonarr NAS ---pr", usage("found `---pr`")],
    ["/failover unlock sonarr --dry-run", usage("unlock has no dry run, found `--dry-run`")],
    ["/failover unlock sonarr --dry-run", usage("nothing was unlocked")],
    ["/failover unlock sonarr --force", usage("unlock takes no flags, found `--force`")],
    ["/failover unlock --force sonarr", usage("unlock takes no flags, found `--force`")],
    // Mangled by smart punctuation: a flag too.
    ["/failover lock sonarr \u2014dry-run", usage("typographic dash")],
    // `--` right after the service: the rest is the reason as written.
    ["/failover lock sonarr -- --not-a-flag", lock("--not-a-flag")],
    ["/failover lock sonarr -- NAS -- back --soon", lock("NAS -- back --soon")],
    ["/failover lock sonarr --", lock("")],
    // Later, `--` is text, and a flag after it is still a flag.
    ["/failover lock sonarr NAS -- back at 6", lock("NAS -- back at 6")],
    ["/failover lock sonarr NAS -- --dry-run", usage("lock has no dry run")],
    // Dashes as punctuation are text.
    ["/failover lock sonarr NAS - swap -> v2, -5 C", lock("NAS - swap -> v2, -5 C")],
    ["/failover lock sonarr NAS swap \u2014 back at 6", lock("NAS swap \u2014 back at 6")],
    ["/failover lock sonarr re-run NAS-maintenance", lock("re-run NAS-maintenance")],
    // The reason is the line's own text after the service (spacing kept), even when the
    // service's name is part of `lock` (it was found by a text search before).
    ["/failover lock lo maintenance", { kind: "lock", service: "lo", reason: "maintenance" }],
    ["/failover lock sonarr  NAS   work  ", lock("NAS   work")],
    ["/failover LOCK sonarr NAS", lock("NAS")],
  ])("%j", (body, expected) => {
    expect(parseCommand(body)).toEqual(expected);
  });

  it("never returns a lock whose reason holds a flag, unless the reason follows `--`", () => {
    const word = fc.constantFrom(
      "NAS",
      "maintenance",
      "-",
      "--",
      "->",
      "-5",
      "--dry-run",
      "--dry-run=false",
      "-n",
      "--force",
      "--pr",
      "re-run",
      "\u2014",
      "\u2014dry-run",
    );
    fc.assert(
      fc.property(
        fc.array(word, { maxLength: 8 }),
        fc.constantFrom(" ", "\t", "\u00a0"),
        (words, space) => {
          const result = parseCommand(["/failover", "lock", "sonarr", ...words].join(space));
          expect(result?.kind === "lock" || result?.kind === "usage").toBe(true);
          if (result?.kind !== "lock" || words[0] === "--") return;
          const reasonWords = result.reason.split(/\s+/);
          expect(reasonWords.some((w) => /^-+[A-Za-z]/.test(w))).toBe(false);
          expect(reasonWords.some((w) => /^\u2014./.test(w))).toBe(false);
        },
      ),
      { numRuns: fuzzRuns(500) },
    );
  });
});

/**
 * Comments a CommonMark renderer (GitHub's) shows as code, a quote, a list, a heading or
 * hidden HTML: none may run a command. Each of these ran one, or could, with line patterns.
 */
const HOSTILE: ReadonlyArray<readonly [string, string]> = [
  ["indented code, 4 spaces", "    /failover sonarr promote"],
  ["indented code, a tab", "\t/failover sonarr promote"],
  ["indented code, 2 spaces and a tab", "  \t/failover sonarr promote"],
  ["indented code after a paragraph and a blank line", "Log:\n\n    /failover sonarr promote"],
  ["indented code inside a log", "    $ kubectl get pods\n    /failover sonarr promote\n"],
  ["``` fence", "```\n/failover sonarr promote\n```"],
  ["~~~ fence with info", "~~~sh\n/failover sonarr promote\n~~~"],
  ["unclosed fence", "Log:\n```bash\n/failover sonarr promote"],
  ["indented fence", "   ```\n/failover sonarr promote\n   ```"],
  ["fence in a list item", "- ```\n  /failover sonarr promote\n  ```"],
  ["<pre> block", "<pre>\n/failover sonarr promote\n</pre>"],
  ["<pre> block with blank lines", "<pre>\n\n/failover sonarr promote\n\n</pre>"],
  ["<pre><code> on one line", "<pre><code>/failover sonarr promote</code></pre>"],
  ["<code> block", "<code>\n/failover sonarr promote\n</code>"],
  ["<code> block with blank lines", "<code>\n\n/failover sonarr promote\n\n</code>"],
  [
    "<details>, collapsed",
    "<details><summary>log</summary>\n\n/failover sonarr promote\n\n</details>",
  ],
  ["<div> block", "<div>\n/failover sonarr promote\n</div>"],
  ["<textarea> block", "<textarea>\n\n/failover sonarr promote\n</textarea>"],
  ["inline <code> left open", "See <code>\n/failover sonarr promote\n</code>"],
  ["inside an HTML attribute", "<span title='\n/failover sonarr promote\n'>x</span>"],
  ["HTML comment block", "<!--\n\n/failover sonarr promote\n\n-->"],
  ["inline HTML comment spanning lines", "Note <!--\n/failover sonarr promote\n-->"],
  ["quote", "> /failover sonarr promote"],
  ["quote without a space", ">/failover sonarr promote"],
  ["quote, indented", "   > /failover sonarr promote"],
  ["quote of a reply", "> Alice wrote:\n>\n> /failover sonarr promote\n\nNo!"],
  ["lazy continuation of a quote", "> Alice wrote:\n/failover sonarr promote"],
  ["nested quote", ">> /failover sonarr promote"],
  ["quoted fence", "> ```\n> /failover sonarr promote\n> ```"],
  ["list item", "- /failover sonarr promote"],
  ["star list item", "* /failover sonarr promote"],
  ["ordered list item", "1. /failover sonarr promote"],
  ["task list item", "- [ ] /failover sonarr promote"],
  ["list item's continuation line", "- step one:\n  /failover sonarr promote"],
  ["list item's second paragraph", "1. step one\n\n   /failover sonarr promote"],
  ["ATX heading", "# /failover sonarr promote"],
  ["setext heading", "/failover sonarr promote\n==="],
  ["setext heading, dashes", "/failover sonarr promote\n---"],
  ["multi-line inline code", "Run `this:\n/failover sonarr promote`"],
  ["double-backtick inline code", "``\n/failover sonarr promote\n``"],
  ["link text spanning lines", "[see\n/failover sonarr promote](https://example.com)"],
  ["image alt spanning lines", "![x\n/failover sonarr promote](https://example.com/a.png)"],
  ["code after a link title holding a backtick", '[a](https://x "`")`\n/failover sonarr promote`'],
  ["code after an autolink holding a backtick", "<https://x`>`y\n/failover sonarr promote`"],
  ["escaped slash", "\\/failover sonarr promote"],
  ["character reference", "&#47;failover sonarr promote"],
  ["table cell", "| cmd |\n| --- |\n| /failover sonarr promote |"],
];

describe("parseCommand on Markdown: only top-level paragraphs count", () => {
  it.each(HOSTILE)("%s: no command", (_name, body) => {
    expect(parseCommand(body)).toBeNull();
  });

  const closable = HOSTILE.filter(([name]) => name !== "unclosed fence");
  it.each(closable)("%s, then one's own command: that one counts", (_name, body) => {
    expect(
      parseCommand(
        `${body}\n\n</pre></code></details></div></textarea></span>\n\n/failover radarr status`,
      ),
    ).toEqual(status("radarr"));
  });

  it.each([
    [
      "after a paragraph",
      "Node A is down.\n\n/failover sonarr promote",
      failover("sonarr", "promote"),
    ],
    [
      "after a soft line break",
      "Node A is down.\n/failover sonarr promote",
      failover("sonarr", "promote"),
    ],
    [
      "after a hard line break",
      "Node A is down.  \n/failover sonarr promote",
      failover("sonarr", "promote"),
    ],
    [
      "after bold text",
      "**Outage** on k3s-w1\n/failover sonarr promote",
      failover("sonarr", "promote"),
    ],
    [
      "after inline code",
      "`k3s-w1` is down\n/failover sonarr promote",
      failover("sonarr", "promote"),
    ],
    ["a paragraph's line indented 4 spaces", "Hi\n    /failover sonarr status", status("sonarr")],
    ["after a quote and a blank line", "> quoted\n\n/failover sonarr status", status("sonarr")],
    ["after a fence", "```\nlog\n```\n/failover sonarr status", status("sonarr")],
    ["after indented code", "    code\n\n/failover sonarr status", status("sonarr")],
    ["after a list and a blank line", "- item\n\n/failover sonarr status", status("sonarr")],
    ["after a closed <pre>", "<pre>x</pre>\n\n/failover sonarr status", status("sonarr")],
    [
      "after closed <details>",
      "<details><summary>s</summary>x</details>\n\n/failover sonarr status",
      status("sonarr"),
    ],
    ["after a <br>", "<br>\n\n/failover sonarr status", status("sonarr")],
    [
      "emphasis after the command",
      "/failover sonarr promote *now*",
      usage("unexpected extra words"),
    ],
  ])("%s", (_name, body, expected) => {
    expect(parseCommand(body)).toEqual(expected);
  });

  it("hostile variants counted in docs/proofs.md", () => {
    expect(HOSTILE.length).toBe(47);
  });
});

describe("transport parsers: a comment and a dispatch as the one Command", () => {
  const origin = { trigger: "chatops", requester: "alice", requestId: "r-1" } as const;

  it.each([
    [
      "/failover sonarr promote --pr",
      {
        kind: "failover",
        service: "sonarr",
        action: "promote",
        dryRun: false,
        mode: "pr",
        acceptDataLoss: false,
      },
    ],
    [
      "/failover sonarr promote --accept-data-loss",
      {
        kind: "failover",
        service: "sonarr",
        action: "promote",
        dryRun: false,
        mode: undefined,
        acceptDataLoss: true,
      },
    ],
    [
      "/failover node k3s-w1 demote --dry-run",
      {
        kind: "node_failover",
        node: "k3s-w1",
        action: "demote",
        dryRun: true,
        mode: undefined,
        acceptDataLoss: false,
      },
    ],
    ["/failover sonarr status", { kind: "status", service: "sonarr" }],
    ["/failover sonarr history", { kind: "history", service: "sonarr", limit: 20 }],
    ["/failover lock sonarr NAS work", { kind: "lock", service: "sonarr", reason: "NAS work" }],
    [
      "/failover lock sonarr --dry-run",
      { kind: "help", problem: expect.stringContaining("lock has no dry run") },
    ],
    ["/failover unlock sonarr", { kind: "unlock", service: "sonarr" }],
    ["/failover list", { kind: "list" }],
    ["/failover help", { kind: "help", problem: undefined }],
    [
      "/failover sonarr explode",
      { kind: "help", problem: "unknown action `explode`: use promote, demote or status" },
    ],
  ])("comment %j", (body, command) => {
    expect(commandFromComment(body, origin)).toEqual({ ...origin, ...command });
  });

  it("a comment without a command is no command", () => {
    expect(commandFromComment("looks good", origin)).toBeNull();
  });

  const dispatched = { ...origin, trigger: "repository_dispatch" } as const;
  it.each([
    [
      { service: "sonarr", action: "promote" },
      {
        kind: "failover",
        service: "sonarr",
        action: "promote",
        dryRun: false,
        mode: undefined,
        acceptDataLoss: false,
      },
    ],
    [
      { service: "sonarr", action: "demote", dry_run: "true", mode: "pr" },
      {
        kind: "failover",
        service: "sonarr",
        action: "demote",
        dryRun: true,
        mode: "pr",
        acceptDataLoss: false,
      },
    ],
    [
      { service: "sonarr", action: "promote", accept_data_loss: "true" },
      {
        kind: "failover",
        service: "sonarr",
        action: "promote",
        dryRun: false,
        mode: undefined,
        acceptDataLoss: true,
      },
    ],
    [
      { service: "sonarr", action: "promote", mode: "default" },
      {
        kind: "failover",
        service: "sonarr",
        action: "promote",
        dryRun: false,
        mode: undefined,
        acceptDataLoss: false,
      },
    ],
    [
      { service: "sonarr", action: "status" },
      { kind: "status", service: "sonarr" },
    ],
  ])("dispatch %j", (inputs, command) => {
    expect(commandFromDispatch(inputs, dispatched)).toEqual({ ...dispatched, ...command });
  });

  it.each([
    [undefined],
    [{ service: "Sonarr", action: "promote" }],
    [{ service: "sonarr", action: "explode" }],
    [{ service: "sonarr", action: "promote", dry_run: "maybe" }],
    [{ service: "sonarr", action: "promote", mode: "sideways" }],
    // A misspelt input is no dry run dropped on the floor: the whole request is refused.
    [{ service: "sonarr", action: "promote", "dry-run": true }],
  ])("dispatch %j is refused (nothing runs)", (inputs) => {
    expect(commandFromDispatch(inputs, dispatched)).toBeNull();
  });

  it.each([
    ["72d3162e-cc78-11e3-81ab-4c9367dc0958", "72d3162e-cc78-11e3-81ab-4c9367dc0958"],
    ["delivery.1_a", "delivery.1_a"],
    // Could not be a commit trailer's value, so a redelivery could not be found: nothing runs.
    ["", undefined],
    ["-starts-with-a-dash", undefined],
    ["two words", undefined],
    ["x\nFailover-Request: y", undefined],
    ["a".repeat(101), undefined],
  ])("the dispatch delivery id %j names the request %j", (delivery, requestId) => {
    expect(dispatchRequestId(delivery)).toBe(requestId);
  });
});
