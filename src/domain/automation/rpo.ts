/** What the cluster says about a service's backup copy (absent fields: not known). */
export interface BackupFacts {
  /** ReplicationDestination status.lastSyncTime (ms since the epoch). */
  readonly lastSyncAt: number | undefined;
  readonly latestImage: string | undefined;
  /** Why the copy's age is not known (no cluster access, Syncthing mover, none found). */
  readonly unknownBecause: string | undefined;
  /** The backup node's Ready condition; undefined when not read. */
  readonly backupNodeReady: boolean | undefined;
}

export interface RpoVerdict {
  readonly allowed: boolean;
  /** The data-loss window: how old the backup copy is, when known. */
  readonly rpoSeconds: number | undefined;
  readonly message: string;
}

/**
 * Whether a promote may go ahead given the age of the backup copy. `max_rpo` refuses an
 * older copy; a person may accept the loss (`accept_data_loss=true`), automation never does.
 * An unknown age never refuses a person (without cluster access everything works as before);
 * automation does not promote onto a copy of unknown age when the service sets max_rpo, nor
 * onto a backup node that reports NotReady.
 */
export function rpoVerdict(input: {
  readonly facts: BackupFacts;
  readonly now: number;
  readonly maxRpoMs: number | undefined;
  readonly automatic: boolean;
  readonly acceptDataLoss: boolean;
}): RpoVerdict {
  const { facts, now } = input;
  if (facts.backupNodeReady === false && input.automatic) {
    return {
      allowed: false,
      rpoSeconds: undefined,
      message: "the backup node is not Ready: no automatic promote onto it",
    };
  }
  if (facts.lastSyncAt === undefined) {
    // A service that sets max_rpo asked for a bound: automation never promotes onto a copy
    // whose age it cannot see (fail closed); a person still may, and is told the RPO is unknown.
    if (input.automatic && input.maxRpoMs !== undefined) {
      return {
        allowed: false,
        rpoSeconds: undefined,
        message: `RPO unknown (${facts.unknownBecause ?? "no lastSyncTime"}) and max_rpo is set: no automatic promote`,
      };
    }
    return {
      allowed: true,
      rpoSeconds: undefined,
      message: `RPO unknown: ${facts.unknownBecause ?? "no lastSyncTime"}`,
    };
  }
  const age = Math.max(0, now - facts.lastSyncAt);
  const rpoSeconds = Math.round(age / 1000);
  const window = `the backup copy is ${rpoSeconds} s old`;
  if (input.maxRpoMs === undefined || age <= input.maxRpoMs) {
    return { allowed: true, rpoSeconds, message: `${window}: up to that much data is lost` };
  }
  const limit = `max_rpo is ${Math.round(input.maxRpoMs / 1000)} s`;
  if (input.automatic) {
    return { allowed: false, rpoSeconds, message: `${window}, ${limit}: no automatic promote` };
  }
  if (input.acceptDataLoss) {
    return {
      allowed: true,
      rpoSeconds,
      message: `${window}, ${limit}; accepted (accept_data_loss=true)`,
    };
  }
  return {
    allowed: false,
    rpoSeconds,
    message: `${window}, ${limit}: refused; repeat with accept_data_loss=true to accept the loss`,
  };
}
