import { z } from "zod";
import { type BackupFacts, type RpoVerdict, rpoVerdict } from "../domain/automation/rpo.js";
import type { ServiceSpec } from "../domain/service.js";
import type { KubeReader } from "./kube-reader.js";

const replicationDestinations = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string() }),
      spec: z.object({ syncthing: z.unknown().optional() }).loose().optional(),
      status: z
        .object({
          lastSyncTime: z.string().optional(),
          latestImage: z.object({ name: z.string().optional() }).loose().optional(),
        })
        .loose()
        .optional(),
    }),
  ),
});

const nodes = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string() }),
      status: z
        .object({
          conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional(),
        })
        .optional(),
    }),
  ),
});

export interface RpoService {
  readonly name: string;
  readonly namespace: string;
  /** The backup side's node selector, `key=value` (the service's backup_node_label); absent: not read. */
  readonly backupNodeSelector: string | undefined;
  readonly maxRpoMs: number | undefined;
}

/** `key=value` of the backup side, from the service's workload or HelmRelease target. */
export function backupNodeSelector(spec: ServiceSpec): string | undefined {
  for (const t of spec.targets) {
    if (t.type === "workload") return `${t.workload.nodeLabelKey}=${spec.nodes.backup}`;
    if (t.type === "helmrelease") return `${t.release.nodeLabelKey}=${spec.nodes.backup}`;
  }
  return undefined;
}

export interface RpoReport extends RpoVerdict {
  readonly facts: BackupFacts;
}

/**
 * The RPO gate before a promote: reads the service's VolSync ReplicationDestination (named
 * after the service, or starting with its name) and the backup node's Ready condition, and
 * judges the data-loss window against `max_rpo`. Without cluster access (no reader) or when
 * a read fails: RPO unknown, allowed.
 */
/** Suffixes homelab repositories give a service's ReplicationDestination, in order of preference. */
const DESTINATION_SUFFIXES = ["backup", "dst", "dest", "destination", "rd", "bootstrap"] as const;

export async function rpoCheck(
  service: RpoService,
  options: {
    readonly kube: KubeReader | undefined;
    readonly now: number;
    readonly automatic: boolean;
    readonly acceptDataLoss: boolean;
  },
): Promise<RpoReport> {
  const facts = await backupFacts(service, options.kube);
  return {
    facts,
    ...rpoVerdict({
      facts,
      now: options.now,
      maxRpoMs: service.maxRpoMs,
      automatic: options.automatic,
      acceptDataLoss: options.acceptDataLoss,
    }),
  };
}

async function backupFacts(
  service: RpoService,
  kube: KubeReader | undefined,
): Promise<BackupFacts> {
  const unknown = (why: string, ready?: boolean): BackupFacts => ({
    lastSyncAt: undefined,
    latestImage: undefined,
    unknownBecause: why,
    backupNodeReady: ready,
  });
  if (kube === undefined) return unknown("no cluster access");
  const [destinations, ready] = await Promise.all([
    kube
      .get(
        `/apis/volsync.backube/v1alpha1/namespaces/${encodeURIComponent(service.namespace)}/replicationdestinations`,
      )
      .then((v) => replicationDestinations.parse(v))
      .catch(() => undefined),
    (service.backupNodeSelector === undefined
      ? Promise.reject(new Error("no selector"))
      : kube.get(`/api/v1/nodes?labelSelector=${encodeURIComponent(service.backupNodeSelector)}`)
    )
      .then((v) => {
        const found = nodes.parse(v).items;
        if (found.length === 0) return undefined;
        return found.some((n) =>
          (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
        );
      })
      .catch(() => undefined),
  ]);
  if (destinations === undefined)
    return unknown("cannot read VolSync ReplicationDestinations", ready);
  // The service's own copy only: its name, or its name with a usual suffix (`sonarr-backup`,
  // `sonarr-dst`). Not any `sonarr-*`: `sonarr-db-backup` is service sonarr-db's copy.
  const names = [
    service.name,
    ...DESTINATION_SUFFIXES.map((suffix) => `${service.name}-${suffix}`),
  ];
  const dest = names
    .map((name) => destinations.items.find((d) => d.metadata.name === name))
    .find((d) => d !== undefined);
  if (dest === undefined) return unknown(`no ReplicationDestination for ${service.name}`, ready);
  const last = dest.status?.lastSyncTime;
  if (last === undefined) {
    return unknown(
      dest.spec?.syncthing !== undefined
        ? "the Syncthing mover reports no lastSyncTime"
        : `${dest.metadata.name} has not synced yet`,
      ready,
    );
  }
  const at = Date.parse(last);
  return {
    lastSyncAt: Number.isNaN(at) ? undefined : at,
    latestImage: dest.status?.latestImage?.name,
    unknownBecause: Number.isNaN(at) ? `lastSyncTime ${last} is not a time` : undefined,
    backupNodeReady: ready,
  };
}
