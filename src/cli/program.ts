import { readFileSync } from "node:fs";
import {
  Argument,
  Command as Commander,
  CommanderError,
  InvalidArgumentError,
  Option,
} from "commander";
import type { Command, CommandOrigin } from "../domain/commands/command.js";
import { DEFAULT_HISTORY_LIMIT } from "../domain/commands/command.js";
import type { FailoverMode } from "../domain/outcome.js";
import { ACTIONS, type Action } from "../domain/service.js";

/** What an argv asks for: a command to run, the server, the setup flow, or a printed text. */
export type CliRequest =
  | { readonly kind: "command"; readonly command: Command; readonly json: boolean }
  | {
      readonly kind: "serve";
      /** `serve --setup`: the GitHub App manifest flow instead of the API. */
      readonly setup: { readonly webhookUrl?: string; readonly org?: string } | undefined;
    }
  /** Help or version, for stdout; exit 0. */
  | { readonly kind: "print"; readonly text: string }
  /** A usage error, one short line for stderr; exit 2. */
  | { readonly kind: "usage"; readonly message: string };

export interface ParsedCli {
  readonly request: CliRequest;
  /** `--dotenv <path>`: settings read from this file first, when it exists. */
  readonly dotenv: string | undefined;
}

const VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

/**
 * The CLI transport's parser: argv as a Command (or serve, setup, help), with commander
 * doing subcommands, their help, unknown-command suggestions and `--version`. Pure apart
 * from reading the version once: nothing runs here, and nothing is printed.
 */
export function parseCli(
  argv: readonly string[],
  origin: Omit<CommandOrigin, "trigger">,
): ParsedCli {
  let request: CliRequest | undefined;
  let printed = "";
  let dotenv: string | undefined;
  const found = (r: CliRequest) => {
    request = r;
  };
  const by: CommandOrigin = { ...origin, trigger: "cli" };
  const program = new Commander("failover-api")
    .description(
      "Fail stateful Kubernetes apps over between nodes by changing Git (Flux applies it).\nSettings: see .env.example (FAILOVER_CONFIG, DEMO_REPO, GITOPS_REPO_PATH, PORT, ...).",
    )
    .version(VERSION, "-V, --version", "print the version")
    .option(
      "--dotenv <path>",
      "read settings from this file first, when it exists (npm start: .env)",
    )
    .option("--json", "print the JSON the HTTP API answers instead of text")
    .helpOption("-h, --help", "show help")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => {
        printed += text;
      },
      writeErr: (text) => {
        printed += text;
      },
      outputError: () => undefined,
    });
  const json = () => program.opts<{ json?: boolean }>().json === true;
  const run = (command: Command) => found({ kind: "command", command, json: json() });

  program
    .command("serve")
    .description("start the HTTP API (and the GitHub App's webhooks when configured)")
    .option("--setup", "register the GitHub App from app.yml and write its credentials to --dotenv")
    .option("--webhook-url <url>", "with --setup: the public https://<host>/api/github/webhooks")
    .option("--org <org>", "with --setup: register it for an organisation")
    .action((opts: { setup?: boolean; webhookUrl?: string; org?: string }) =>
      found({
        kind: "serve",
        setup:
          opts.setup === true
            ? {
                ...(opts.webhookUrl === undefined ? {} : { webhookUrl: opts.webhookUrl }),
                ...(opts.org === undefined ? {} : { org: opts.org }),
              }
            : undefined,
      }),
    );
  program
    .command("setup")
    .description("register the GitHub App (the same as serve --setup)")
    .option("--webhook-url <url>", "the public https://<host>/api/github/webhooks")
    .option("--org <org>", "register it for an organisation")
    .action((opts: { webhookUrl?: string; org?: string }) =>
      found({
        kind: "serve",
        setup: {
          ...(opts.webhookUrl === undefined ? {} : { webhookUrl: opts.webhookUrl }),
          ...(opts.org === undefined ? {} : { org: opts.org }),
        },
      }),
    );
  program
    .command("list")
    .description("list the configured services")
    .action(() => run({ ...by, kind: "list" }));
  program
    .command("status")
    .description("where a service runs now, as its manifests say (every service without one)")
    .argument("[service]")
    .action((service: string | undefined) => run({ ...by, kind: "status", service }));
  for (const action of ACTIONS) {
    withFlags(
      program
        .command(action)
        .description(
          action === "promote"
            ? "fail over to the backup node and claim"
            : "fail back to the primary node and claim",
        )
        .argument("<service>"),
    ).action((service: string, opts: Flags) =>
      run({ ...by, kind: "failover", service, action, ...flags(opts) }),
    );
  }
  withFlags(
    program
      .command("node")
      .description("every service whose primary is <node>, in one commit")
      .argument("<node>")
      .addArgument(new Argument("<action>").choices(ACTIONS)),
  ).action((node: string, action: Action, opts: Flags) =>
    run({ ...by, kind: "node_failover", node, action, ...flags(opts) }),
  );
  program
    .command("lock")
    .description("refuse failovers of the service until it is unlocked")
    .argument("<service>")
    .argument("[reason...]")
    .action((service: string, reason: string[]) =>
      run({ ...by, kind: "lock", service, reason: reason.join(" ") }),
    );
  program
    .command("unlock")
    .description("allow failovers of the service again")
    .argument("<service>")
    .action((service: string) => run({ ...by, kind: "unlock", service }));
  program
    .command("history")
    .description("past failovers of the service, from Git")
    .argument("<service>")
    .addOption(
      new Option("--limit <n>", "at most this many (1-100)")
        .argParser(limitOf)
        .default(DEFAULT_HISTORY_LIMIT),
    )
    .action((service: string, opts: { limit: number }) =>
      run({ ...by, kind: "history", service, limit: opts.limit }),
    );
  program.addHelpText(
    "after",
    "\nsetup (serve --setup): register the GitHub App (GitHub's manifest flow) and write its\ncredentials to --dotenv (default .env); see docs/github-app.md",
  );

  try {
    program.parse([...argv], { from: "user" });
    dotenv = program.opts<{ dotenv?: string }>().dotenv;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    dotenv = program.opts<{ dotenv?: string }>().dotenv;
    // --help, --version, and a bare `failover-api` (commander shows the help for it).
    if (error.exitCode === 0 || error.code === "commander.help") {
      return { request: { kind: "print", text: printed }, dotenv };
    }
    return { request: { kind: "usage", message: shortError(error.message) }, dotenv };
  }
  // Never a server nobody asked for: `serve` is a command like the others.
  return { request: request ?? { kind: "print", text: program.helpInformation() }, dotenv };
}

interface Flags {
  readonly dryRun?: boolean;
  readonly pr?: boolean;
  readonly urgent?: boolean;
  readonly acceptDataLoss?: boolean;
}

function withFlags(command: Commander): Commander {
  return command
    .option("--dry-run", "show the plan and diff, write nothing")
    .addOption(new Option("--pr", "open a pull request instead of committing").conflicts("urgent"))
    .addOption(new Option("--urgent", "commit straight to the branch"))
    .option(
      "--accept-data-loss",
      "promote even when the backup copy is older than the service's max_rpo",
    );
}

function flags(opts: Flags): {
  dryRun: boolean;
  mode: FailoverMode | undefined;
  acceptDataLoss: boolean;
} {
  let mode: FailoverMode | undefined;
  if (opts.pr === true) mode = "pr";
  else if (opts.urgent === true) mode = "urgent";
  return { dryRun: opts.dryRun === true, mode, acceptDataLoss: opts.acceptDataLoss === true };
}

function limitOf(raw: string): number {
  const n = /^\d{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= 100)) throw new InvalidArgumentError("give a number from 1 to 100");
  return n;
}

/** commander's `error: unknown command 'lsit'\n(Did you mean list?)` as one line. */
function shortError(message: string): string {
  return message
    .replace(/^error: /, "")
    .replace(/\n\(Did you mean (.+)\?\)$/, " (did you mean $1?)")
    .trim();
}
