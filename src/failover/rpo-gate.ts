import { rpoVerdict } from "../domain/automation/rpo.js";
import type { Trigger } from "../domain/outcome.js";
import type { Action, ServiceSpec } from "../domain/service.js";
import type { FailoverContext, RpoReading } from "./context.js";

/** The data-loss window a promote's plan shows: how old the backup copy is, when known. */
export interface RpoWindow {
  /** Seconds since the backup copy's last sync; undefined: RPO unknown. */
  readonly seconds: number | undefined;
  readonly message: string;
}

/**
 * The RPO gate's readings before a manual promote, one per service, read once per request
 * (in parallel with the repository read). Not for demotes (back to the primary's own copy)
 * nor for the Alertmanager trigger, which gated its services itself (automatic: no override).
 * A port that fails is "RPO unknown": reading the cluster never decides a failover alone.
 */
export function rpoReadings(
  ctx: FailoverContext,
  request: {
    readonly action: Action;
    readonly trigger: Trigger;
    readonly acceptDataLoss?: boolean | undefined;
  },
  specs: readonly ServiceSpec[],
): Promise<ReadonlyMap<string, RpoReading>> | undefined {
  if (request.action !== "promote" || request.trigger === "alertmanager") return undefined;
  const now = Date.now();
  const acceptDataLoss = request.acceptDataLoss === true;
  return Promise.all(
    specs.map(async (spec): Promise<[string, RpoReading]> => {
      const reading =
        ctx.rpo === undefined
          ? unknown("no cluster access", now, acceptDataLoss)
          : await ctx
              .rpo(spec, { now, acceptDataLoss })
              .catch(() => unknown("the cluster could not be read", now, acceptDataLoss));
      return [spec.name, reading];
    }),
  ).then((entries) => new Map(entries));
}

export function rpoWindow(reading: RpoReading): RpoWindow {
  return { seconds: reading.rpoSeconds, message: reading.message };
}

function unknown(why: string, now: number, acceptDataLoss: boolean): RpoReading {
  const facts = {
    lastSyncAt: undefined,
    latestImage: undefined,
    unknownBecause: why,
    backupNodeReady: undefined,
  };
  return {
    facts,
    ...rpoVerdict({ facts, now, maxRpoMs: undefined, automatic: false, acceptDataLoss }),
  };
}
