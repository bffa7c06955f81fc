import { resolveNodeName } from "../config/automation-config.js";
import type { Command, CommandOf } from "../domain/commands/command.js";
import { FailoverError } from "../domain/errors.js";
import type { FailoverContext } from "./context.js";
import { withBudget } from "./deadline.js";
import { endFacts } from "./deliver.js";
import { type FailoverResult, runFailover } from "./failover.js";
import { getHistory, type HistoryItem } from "./history.js";
import { listServices, type ServiceSummary } from "./list.js";
import { type LockResult, setLock } from "./locks.js";
import { type NodeFailoverResult, runNodeFailover } from "./node-failover.js";
import { getAllStatus, getStatus } from "./status.js";
import type { AllStatus, ServiceStatus } from "./status-types.js";

/** What each kind of command answers: transports render these (src/presenters). */
export interface CommandResults {
  readonly failover: { readonly kind: "failover"; readonly result: FailoverResult };
  readonly node_failover: { readonly kind: "node_failover"; readonly result: NodeFailoverResult };
  readonly status:
    | { readonly kind: "status"; readonly status: ServiceStatus }
    | { readonly kind: "all_status"; readonly status: AllStatus };
  readonly list: { readonly kind: "list"; readonly services: readonly ServiceSummary[] };
  readonly lock: LockCommandResult;
  readonly unlock: LockCommandResult;
  readonly history: {
    readonly kind: "history";
    readonly service: string;
    readonly items: readonly HistoryItem[];
  };
  readonly help: { readonly kind: "help"; readonly problem: string | undefined };
}

export interface LockCommandResult {
  readonly kind: "lock";
  readonly service: string;
  readonly requester: string;
  readonly result: LockResult;
}

export type CommandResult = CommandResults[keyof CommandResults];

/**
 * The one use case every transport calls: runs any Command and returns its typed result.
 * A failure is a thrown FailoverError (each transport maps its code once). Failovers run
 * within the budget (FAILOVER_BUDGET_MS) and announce themselves on `ctx.events`, failures
 * included; the answer never waits for a listener.
 */
export async function runCommand<C extends Command>(
  ctx: FailoverContext,
  command: C,
): Promise<CommandResults[C["kind"]]> {
  // One trust boundary: each branch below returns the result of its own kind.
  return (await dispatch(ctx, command)) as CommandResults[C["kind"]];
}

async function dispatch(ctx: FailoverContext, command: Command): Promise<CommandResult> {
  switch (command.kind) {
    case "failover":
      return { kind: "failover", result: await failover(ctx, command) };
    case "node_failover":
      return { kind: "node_failover", result: await nodeFailover(ctx, command) };
    case "status":
      return command.service === undefined
        ? { kind: "all_status", status: await getAllStatus(ctx) }
        : { kind: "status", status: await getStatus(ctx, command.service) };
    case "list":
      return { kind: "list", services: listServices(ctx) };
    case "lock":
    case "unlock": {
      const result = await setLock(ctx, {
        service: command.service,
        lock: command.kind === "lock",
        reason: command.kind === "lock" ? command.reason : "",
        requester: command.requester,
      });
      return { kind: "lock", service: command.service, requester: command.requester, result };
    }
    case "history":
      return {
        kind: "history",
        service: command.service,
        items: await getHistory(ctx, command.service, command.limit),
      };
    case "help":
      return { kind: "help", problem: command.problem };
  }
}

function failover(ctx: FailoverContext, command: CommandOf<"failover">): Promise<FailoverResult> {
  return bounded(
    ctx,
    command,
    [command.service],
    `the failover of ${command.service}`,
    `/api/failover/${command.service}/status`,
    () => runFailover(ctx, command),
  );
}

function nodeFailover(
  ctx: FailoverContext,
  named: CommandOf<"node_failover">,
): Promise<NodeFailoverResult> {
  // Every transport may name the node as Kubernetes does (`k3s-w1`) or by its placement
  // label value (`primary`): services.yaml's `nodes:` map turns the first into the second.
  const command = { ...named, node: resolveNodeName(ctx.config(), named.node) };
  return bounded(
    ctx,
    command,
    [],
    `the failover of node ${command.node}`,
    `/api/nodes/${command.node}/status`,
    () => runNodeFailover(ctx, command),
  );
}

/**
 * Runs a failover within the budget; a failure (refusal, conflict, timeout...) is announced
 * as a `refused` or `failed` event before it is thrown, so the audit, the metrics and the
 * log line see failures too.
 */
async function bounded<T>(
  ctx: FailoverContext,
  command: CommandOf<"failover" | "node_failover">,
  services: readonly string[],
  what: string,
  statusPath: string,
  run: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    return await withBudget(ctx.budgetMs, (bound) =>
      bound(run(), () => budgetExceeded(ctx, what, statusPath)),
    );
  } catch (error) {
    const failure =
      error instanceof FailoverError
        ? error
        : new FailoverError("internal", "internal error; see the server log");
    const branch = await ctx.branch().catch(() => "unknown");
    ctx.events?.emit({
      ...endFacts({ ...command, started }, branch),
      type: REFUSALS.has(failure.code) ? "refused" : "failed",
      services,
      code: failure.code,
      message: failure.message,
      dryRun: command.dryRun,
    });
    throw error;
  }
}

/** Codes that mean "not tried": nothing was written. The others failed while trying. */
const REFUSALS = new Set<FailoverError["code"]>([
  "invalid_input",
  "not_found",
  "method_not_allowed",
  "refused",
  "locked",
  "unauthorized",
  "forbidden",
  "config_invalid",
]);

/**
 * The answer when the budget ran out: the write may have been sent, so say where to look.
 * (GitHub calls still in flight for it are aborted at the same moment.)
 */
function budgetExceeded(ctx: FailoverContext, what: string, statusPath: string): FailoverError {
  return new FailoverError(
    "timeout",
    `${what} did not finish within ${ctx.budgetMs} ms (FAILOVER_BUDGET_MS); the commit may ` +
      `have landed all the same: GET ${statusPath} will tell, and sending the request again is safe`,
    { details: { budgetMs: ctx.budgetMs, status: statusPath } },
  );
}
