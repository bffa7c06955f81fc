import { parseCommand } from "../command.js";
import { type Command, type CommandOrigin, DEFAULT_HISTORY_LIMIT } from "./command.js";

/**
 * A `/failover ...` comment as a Command (the syntax and its rules: domain/command.ts).
 * null when the comment holds no command, so the bot stays silent. Pure; never throws.
 */
export function commandFromComment(body: string, origin: CommandOrigin): Command | null {
  const parsed = parseCommand(body);
  if (parsed === null) return null;
  switch (parsed.kind) {
    case "failover":
      return { ...origin, ...parsed };
    case "node":
      return { ...origin, ...parsed, kind: "node_failover" };
    case "status":
      return { ...origin, kind: "status", service: parsed.service };
    case "history":
      return { ...origin, kind: "history", service: parsed.service, limit: DEFAULT_HISTORY_LIMIT };
    case "lock":
    case "unlock":
    case "list":
      return { ...origin, ...parsed };
    case "help":
      return { ...origin, kind: "help", problem: undefined };
    case "usage":
      return { ...origin, kind: "help", problem: parsed.problem };
  }
}
