import { paragraphLines } from "./command-lines.js";
import type { FailoverMode } from "./outcome.js";
import type { Action } from "./service.js";

/**
 * ChatOps commands, parsed from an issue or pull request comment. Mirrors the HTTP API:
 *
 *   /failover <service> promote|demote [--dry-run] [--urgent|--pr] [--accept-data-loss]
 *   /failover <service> status
 *   /failover list
 *   /failover help
 *
 * Rules (tested in test/domain/command.test.ts):
 * - The command starts a line (leading whitespace is fine). `/failover` must be a whole word:
 *   `/failovers` and `x/failover` are not commands. Keyword, sub-command, action and flags are
 *   case-insensitive (ASCII only); service names are not (Kubernetes names are lowercase).
 * - The first command line wins, even when it is malformed (a `usage` result).
 * - Only lines of top-level paragraphs count, found with a CommonMark parser (see
 *   paragraphLines): not code blocks (fenced or indented by 4 spaces or a tab), block quotes,
 *   list items, headings, HTML blocks and comments, nor text inside raw HTML elements.
 * - A comment longer than MAX_COMMAND_COMMENT characters that has a `/failover` line gets a
 *   `usage` result without being parsed (CommonMark parsing is superlinear on hostile input).
 * - Unicode: any JavaScript whitespace (`\s`: NBSP, U+2000..U+200A, U+3000, BOM...) separates
 *   words like a space does. Invisible format characters (zero-width space, joiners, RTL/LTR
 *   marks and overrides) and control characters are not whitespace: before `/failover` they
 *   make the line no command; after it the command is refused (`usage`), because what GitHub
 *   shows would not be what runs. A fullwidth slash (`／failover`) is no command.
 * - `list`, `help`, `node`, `lock` and `unlock` are reserved first words: a service of that
 *   name is not addressable here. A lock's reason is the rest of the line, as written.
 * - `lock` and `unlock` take no flags. A word that reads as a flag (`-n`, `--dry-run`,
 *   `--force`: dashes then a letter) where the service or the reason goes is a `usage` naming
 *   it, never part of the reason: `/failover lock sonarr --dry-run` locks nothing (a lock has
 *   no dry run; HTTP refuses `?dry-run` on lock as well). Dashes as punctuation (`-`, `--`,
 *   `->`, `—`) are text. A reason that must hold a flag-like word starts with `--` right after
 *   the service: `/failover lock sonarr -- --not-a-flag` gives the reason `--not-a-flag`
 *   (the `--` itself is dropped; a `--` later in the reason is text).
 */
export const COMMAND_KINDS = [
  "failover",
  "status",
  "history",
  "node",
  "lock",
  "unlock",
  "list",
  "help",
  "usage",
] as const;

export type ParsedCommand =
  | {
      readonly kind: "failover";
      readonly service: string;
      readonly action: Action;
      readonly dryRun: boolean;
      /** undefined: the service's configured mode applies. */
      readonly mode: FailoverMode | undefined;
      /** `--accept-data-loss`: promote even onto a backup copy older than `max_rpo`. */
      readonly acceptDataLoss: boolean;
    }
  | { readonly kind: "status"; readonly service: string }
  | { readonly kind: "history"; readonly service: string }
  | {
      readonly kind: "node";
      readonly node: string;
      readonly action: Action;
      readonly dryRun: boolean;
      readonly mode: FailoverMode | undefined;
      readonly acceptDataLoss: boolean;
    }
  | { readonly kind: "lock"; readonly service: string; readonly reason: string }
  | { readonly kind: "unlock"; readonly service: string }
  | { readonly kind: "list" }
  | { readonly kind: "help" }
  /** A `/failover` line that cannot run; `problem` says why, for the reply above USAGE. */
  | { readonly kind: "usage"; readonly problem: string };

export const USAGE = [
  "**Usage:** write one command at the start of a line in a comment.",
  "",
  "| Command | What it does | Example |",
  "| --- | --- | --- |",
  "| `/failover <service> promote [--dry-run] [--urgent\\|--pr]` | Move the service to its backup node and volume claim. | `/failover sonarr promote` |",
  "| `/failover <service> demote [--dry-run] [--urgent\\|--pr]` | Move the service back to its primary node and volume claim. | `/failover sonarr demote --pr` |",
  "| `/failover <service> status` | Show which side the service runs on, as its manifest says. | `/failover sonarr status` |",
  "| `/failover <service> history` | List the service's past failovers. | `/failover sonarr history` |",
  "| `/failover node <node> promote\\|demote [--dry-run] [--urgent\\|--pr]` | Move every service whose primary is that node, in one commit. | `/failover node k3s-w1 promote` |",
  "| `/failover lock <service> [reason]` | Refuse failovers of the service until it is unlocked. | `/failover lock sonarr NAS maintenance` |",
  "| `/failover unlock <service>` | Allow failovers of the service again. | `/failover unlock sonarr` |",
  "| `/failover list` | List the configured services and their state. | `/failover list` |",
  "| `/failover help` | Show this help. | `/failover help` |",
  "",
  "Flags: `--dry-run` shows the change without committing it. `--urgent` commits straight to the branch; `--pr` opens a pull request instead; without either, the service's configured mode applies. `--accept-data-loss` promotes even when the backup copy is older than the service's `max_rpo`.",
  "`lock` and `unlock` take no flags (a lock has no dry run); a reason that starts with `-` goes after `--`: `/failover lock sonarr -- --reason`.",
  "Service names are lowercase Kubernetes names (a-z, 0-9 and `-`, at most 63 characters).",
].join("\n");

/** Returns null when the comment holds no command, so the bot stays silent. Pure; never throws. */
export function parseCommand(body: string): ParsedCommand | null {
  // Fast path for the comments that never mention the keyword.
  if (!/\/failover/i.test(body)) return null;
  // Cheap and linear: no line that could be a command line, nothing to parse.
  if (!body.split(/\r\n|\r|\n/).some((line) => commandRest(line) !== undefined)) return null;
  if (body.length > MAX_COMMAND_COMMENT) {
    return usage(
      `the comment is longer than ${MAX_COMMAND_COMMENT} characters: write the command in a short comment of its own`,
    );
  }
  for (const line of paragraphLines(body)) {
    const rest = commandRest(line);
    if (rest !== undefined) return parseArguments(rest);
  }
  return null;
}

/** Longer comments are not searched for a command (a usage reply says so). */
export const MAX_COMMAND_COMMENT = 8192;

const KEYWORD = "/failover";
const INVISIBLE = /[\p{Cc}\p{Cf}]/u;

/** The text after `/failover` when the line is a command line, else undefined. */
function commandRest(line: string): string | undefined {
  const start = line.search(/\S/);
  if (start === -1) return undefined;
  if (lowerAscii(line.slice(start, start + KEYWORD.length)) !== KEYWORD) return undefined;
  const rest = line.slice(start + KEYWORD.length);
  const next = rest.charAt(0);
  // Whole word: end of line, whitespace, or an invisible character (refused below).
  if (next === "" || /\s/.test(next) || INVISIBLE.test(next)) return rest;
  return undefined;
}

type Flags = {
  dryRun: boolean | undefined;
  mode: FailoverMode | undefined;
  acceptDataLoss: boolean;
};

function parseArguments(rest: string): ParsedCommand {
  if (INVISIBLE.test(rest.replace(/\t/g, " "))) {
    return usage("the command contains invisible or control characters: type it again");
  }
  const words = rest.split(/\s+/).filter((w) => w !== "");
  // Smart punctuation (phones, some editors) turns `--dry-run` into `—dry-run`. A dash on
  // its own (`NAS swap — back at 6` in a lock's reason) is punctuation, not a flag.
  const dashed = words.find(
    (w) => /^[\u2010-\u2015\u2212]/.test(w) && !/^[-\u2010-\u2015\u2212]+$/.test(w),
  );
  if (dashed !== undefined) {
    return usage(`${quote(dashed)} starts with a typographic dash: type flags with two '-'`);
  }
  const positionals = words.filter((w) => !w.startsWith("-"));
  const flagWords = words.filter((w) => w.startsWith("-"));

  const first = positionals[0];
  if (first === undefined) {
    return usage(
      flagWords.length > 0
        ? "missing service: write the service before its action and flags"
        : "missing service and action",
    );
  }
  const sub = lowerAscii(first);
  if (sub === "node") return parseNode(positionals.slice(1), flagWords);
  if (sub === "lock" || sub === "unlock") return parseLock(sub, rest);
  if (sub === "list" || sub === "help") {
    const extra = [...positionals.slice(1), ...flagWords];
    if (extra.length > 0) return usage(`\`${sub}\` takes no arguments, found ${quoteList(extra)}`);
    return sub === "list" ? { kind: "list" } : { kind: "help" };
  }

  const second = positionals[1];
  const verb = second === undefined ? undefined : lowerAscii(second);
  if (isVerb(sub) && (verb === undefined || !isVerb(verb))) {
    return usage(`write the service first, then the action: \`/failover <service> ${sub}\``);
  }
  const serviceProblem = checkServiceName(first);
  if (serviceProblem !== undefined) return usage(serviceProblem);
  if (second === undefined || verb === undefined) {
    return usage(`missing action for ${first}: promote, demote or status`);
  }
  if (!isVerb(verb)) {
    return usage(`unknown action ${quote(second)}: use promote, demote or status`);
  }
  if (positionals.length > 2) {
    return usage(`unexpected extra words ${quoteList(positionals.slice(2))}`);
  }
  if (verb === "status" || verb === "history") {
    if (flagWords.length > 0) return usage(`${verb} takes no flags, found ${quoteList(flagWords)}`);
    return { kind: verb, service: first };
  }

  const flags = parseFlags(flagWords);
  if (typeof flags === "string") return usage(flags);
  return {
    kind: "failover",
    service: first,
    action: verb,
    dryRun: flags.dryRun ?? false,
    mode: flags.mode,
    acceptDataLoss: flags.acceptDataLoss,
  };
}

const TRUE = new Set(["true", "1", "yes"]);
const FALSE = new Set(["false", "0", "no"]);

/** The flags, or a problem. Repeating a flag is fine; contradicting it is not. */
function parseFlags(words: readonly string[]): Flags | string {
  const flags: Flags = { dryRun: undefined, mode: undefined, acceptDataLoss: false };
  for (const word of words) {
    const lower = lowerAscii(word);
    const eq = lower.indexOf("=");
    const name = eq === -1 ? lower : lower.slice(0, eq);
    const value = eq === -1 ? undefined : lower.slice(eq + 1);
    if (name === "--dry-run" || name === "--dryrun") {
      let dryRun: boolean;
      if (value === undefined || TRUE.has(value)) dryRun = true;
      else if (FALSE.has(value)) dryRun = false;
      else return `${name} takes true or false, found ${quote(word)}`;
      if (flags.dryRun !== undefined && flags.dryRun !== dryRun) {
        return "--dry-run is given twice with different values";
      }
      flags.dryRun = dryRun;
    } else if ((name === "--urgent" || name === "--pr") && value === undefined) {
      const mode = name === "--urgent" ? "urgent" : "pr";
      if (flags.mode !== undefined && flags.mode !== mode) {
        return "--urgent and --pr exclude each other: give one";
      }
      flags.mode = mode;
    } else if (name === "--accept-data-loss" && value === undefined) {
      // A bare flag only: accepting data loss is never spelled by a value that could be a typo.
      flags.acceptDataLoss = true;
    } else {
      return `unknown flag ${quote(word)}: use --dry-run, --urgent, --pr or --accept-data-loss`;
    }
  }
  return flags;
}

type Verb = Action | "status" | "history";

function isVerb(word: string): word is Verb {
  return word === "promote" || word === "demote" || word === "status" || word === "history";
}

/** A node as configured in primary_node_label: a Kubernetes label value. */
export const NODE_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** `/failover node <node> promote|demote [flags]`. */
function parseNode(positionals: readonly string[], flagWords: readonly string[]): ParsedCommand {
  const [node, action, ...extra] = positionals;
  if (node === undefined) return usage("missing node: `/failover node <node> promote`");
  if (node.length > 63 || !NODE_NAME.test(node)) {
    return usage(`${quote(node)} is not a node name (a Kubernetes label value)`);
  }
  const verb = action === undefined ? undefined : lowerAscii(action);
  if (verb !== "promote" && verb !== "demote") {
    return usage(`a node takes promote or demote: \`/failover node ${node} promote\``);
  }
  if (extra.length > 0) return usage(`unexpected extra words ${quoteList(extra)}`);
  const flags = parseFlags(flagWords);
  if (typeof flags === "string") return usage(flags);
  return {
    kind: "node",
    node,
    action: verb,
    dryRun: flags.dryRun ?? false,
    mode: flags.mode,
    acceptDataLoss: flags.acceptDataLoss,
  };
}

/**
 * A word that reads as a flag (`-n`, `--dry-run`, `--force=1`): in a lock's reason it is
 * never text, since it most likely meant something (`--dry-run` wanted a preview). Dashes
 * that are punctuation (`-`, `--`, `->`, `-5`) are not flags.
 */
const FLAG_LIKE = /^-+[A-Za-z]/;

/** Right after a lock's service: the rest of the line is the reason as written, dash-words too. */
const END_OF_FLAGS = "--";

/**
 * `/failover lock <service> [reason...]` and `/failover unlock <service>`. Neither takes a
 * flag: a flag-like word where the service or the reason goes is a `usage` naming it, never
 * part of the reason (HTTP refuses `?dry-run` on lock too). A reason that must start with
 * a dash-word goes after `--`: `/failover lock sonarr -- --not-a-flag`.
 */
function parseLock(sub: "lock" | "unlock", rest: string): ParsedCommand {
  // The words with where they start, so the reason is the line's own text after the service.
  const words = [...rest.matchAll(/\S+/g)].map((m) => ({ text: m[0], at: m.index }));
  const [keyword, service, ...after] = words;
  if (keyword === undefined || lowerAscii(keyword.text) !== sub) {
    // `/failover --dry-run lock sonarr`: a flag before the sub-command.
    const flag = words.find((w) => w.text.startsWith("-"))?.text ?? "";
    return usage(`${sub} takes no flags, found ${quote(flag)}: \`/failover ${sub} <service>\``);
  }
  if (service === undefined) return usage(`missing service: \`/failover ${sub} <service>\``);
  if (FLAG_LIKE.test(service.text)) return usage(lockFlagProblem(sub, service.text, "<service>"));
  const problem = checkServiceName(service.text);
  if (problem !== undefined) return usage(problem);
  const flag = after.find((w) => FLAG_LIKE.test(w.text));
  if (sub === "unlock") {
    if (flag !== undefined) return usage(lockFlagProblem(sub, flag.text, service.text));
    if (after.length > 0) {
      return usage(`unlock takes only the service, found ${quoteList(after.map((w) => w.text))}`);
    }
    return { kind: "unlock", service: service.text };
  }
  const first = after[0];
  let reason = "";
  if (first !== undefined && first.text === END_OF_FLAGS) {
    reason = rest.slice(first.at + END_OF_FLAGS.length);
  } else if (flag !== undefined) {
    return usage(lockFlagProblem(sub, flag.text, service.text));
  } else if (first !== undefined) {
    reason = rest.slice(first.at);
  }
  return { kind: "lock", service: service.text, reason: reason.trim().slice(0, 300) };
}

/** Why a flag on lock or unlock is refused, and what to write instead. Nothing is written. */
function lockFlagProblem(sub: "lock" | "unlock", word: string, service: string): string {
  const name = lowerAscii(word).split("=")[0];
  if (name === "--dry-run" || name === "--dryrun" || name === "-n") {
    return (
      `${sub} has no dry run, found ${quote(word)}: nothing was ${sub}ed. A ${sub} only ` +
      `${sub === "lock" ? "refuses failovers until unlocked" : "allows failovers again"}; ` +
      `write \`/failover ${sub} ${service}\` to ${sub} for real`
    );
  }
  const hint =
    sub === "lock"
      ? `; a reason that starts with '-' goes after \`--\`: \`/failover lock ${service} -- ${word.replace(/`/g, "'").slice(0, 40)}\``
      : "";
  return `${sub} takes no flags, found ${quote(word)}: nothing was ${sub}ed${hint}`;
}

/** A service name as the config allows it: a lowercase DNS label. */
export const SERVICE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkServiceName(name: string): string | undefined {
  if (name.length > 63) return `service name is longer than 63 characters: ${quote(name)}`;
  if (SERVICE_NAME.test(name)) return undefined;
  const hint = SERVICE_NAME.test(lowerAscii(name))
    ? `use lowercase: \`${lowerAscii(name)}\``
    : "use lowercase letters, digits and '-', starting and ending with a letter or digit";
  return `${quote(name)} is not a service name: ${hint}`;
}

/** ASCII-only lowercasing: `toLowerCase` maps some non-ASCII letters (Kelvin sign) to ASCII. */
function lowerAscii(word: string): string {
  return word.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

function usage(problem: string): ParsedCommand {
  return { kind: "usage", problem };
}

/** Quotes user text for a reply: cut short, and free of backticks that would break the span. */
function quote(word: string): string {
  const chars = Array.from(word);
  const cut = chars.length > 40 ? `${chars.slice(0, 40).join("")}…` : word;
  return `\`${cut.replace(/`/g, "'")}\``;
}

function quoteList(words: readonly string[]): string {
  const shown = words.slice(0, 5).map(quote).join(" ");
  return words.length > 5 ? `${shown} (and ${words.length - 5} more)` : shown;
}
