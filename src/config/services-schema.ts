import { z } from "zod";

/** Kubernetes object names: a DNS-1123 label (what `/failover <service>` and URLs accept). */
export const SERVICE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

const name = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(253, `${what} is longer than 253 characters`)
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, `${what} must be a lowercase Kubernetes name`);

const nodeLabel = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(316)
    .refine((v) => !/\s/.test(v), `${what} must not contain spaces`);

const repoPath = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (p) => !p.startsWith("/") && !p.split("/").some((s) => s === ".." || s === "." || s === ""),
    "path must be relative to the repository root, without '.', '..' or empty segments",
  );

export const FAILOVER_MODES = ["urgent", "pr"] as const;

/** Go-style durations as Alertmanager and Flux write them: `90s`, `2m`, `1h30m`. */
export const DURATION = /^(\d+h)?(\d+m)?(\d+s)?$/;
const duration = (what: string) =>
  z
    .string({ error: `${what} must be a duration such as 2m or 1h30m` })
    .regex(DURATION, `${what} must be a duration such as 90s, 2m or 1h30m`)
    .refine((v) => v !== "", `${what} must not be empty`);

/** Automatic failover on node-down alerts (docs/automation.md). */
const automationSchema = z
  .object({
    /** Alert names that mean "this node is down" (any alert with label failover_node does too). */
    alert_names: z.array(z.string().min(1).max(200)).max(50).optional(),
    /** The alert label naming the node. */
    node_label: z.string().min(1).max(200).optional(),
    /** How old an alert's startsAt must be before it moves anything. */
    auto_failover_after: duration("automation.auto_failover_after").optional(),
    /** No automatic action on a service this soon after its last automatic action. */
    cooldown: duration("automation.cooldown").optional(),
    /** How long a node must be healthy again before an automatic failback. */
    auto_failback_after: duration("automation.auto_failback_after").optional(),
  })
  .strict();

const document = z
  .object({ kind: z.string().min(1).optional(), name: z.string().min(1).optional() })
  .strict();

/** Extra places a service's placement is written, besides its main workload. */
export const targetConfigSchema = z.union([
  z
    .object({
      kind: z.enum(["Deployment", "StatefulSet"]),
      name: name("name"),
      path: repoPath.optional(),
      /** Defaults to the service's volume_name. */
      volume_name: name("volume_name").optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal("HelmRelease"),
      name: name("name"),
      path: repoPath.optional(),
      /** The key under spec.values.persistence; defaults to the service's volume_name. */
      persistence: z.string().min(1).optional(),
      controller: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      path: repoPath,
      field: z.string().min(1).max(512),
      document: document.optional(),
      primary: z.string().min(1),
      backup: z.string().min(1),
    })
    .strict(),
]);

/**
 * One service, in the seed's format. The seed's seven fields are required; the rest are
 * optional additions with documented defaults (docs/configuration.md).
 */
export const serviceConfigSchema = z
  .object({
    namespace: name("namespace"),
    /** The seed's field; `helmrelease` instead for an app-template HelmRelease. */
    deployment: name("deployment").optional(),
    helmrelease: name("helmrelease").optional(),
    volume_name: name("volume_name"),
    primary_pvc: name("primary_pvc"),
    backup_pvc: name("backup_pvc"),
    primary_node_label: nodeLabel("primary_node_label"),
    backup_node_label: nodeLabel("backup_node_label"),
    /** Manifest path in the GitOps repo; searched for when absent (as the seed did). */
    path: repoPath.optional(),
    /** Workload kind; either kind is accepted when absent. */
    kind: z.enum(["Deployment", "StatefulSet"]).optional(),
    /** The node label key the *_node_label values belong to. */
    node_label_key: z.string().regex(LABEL_KEY, "node_label_key must be a label key").optional(),
    /** How changes land for this service (urgent: commit on the branch; pr: a pull request). */
    mode: z.enum(FAILOVER_MODES).optional(),
    /** HelmRelease only: the controller whose pod options place it (any when absent). */
    controller: z.string().min(1).optional(),
    /**
     * HelmRelease only: the key under spec.values.persistence (app-template keys may be
     * camelCase); defaults to volume_name.
     */
    persistence: z.string().min(1).max(253).optional(),
    /** HelmRelease only: vouches for the chart when its chartRef source is not in the repository. */
    chart: z.literal("app-template").optional(),
    /** The file holding the Flux Kustomization that applies the service, where search misses it. */
    flux_kustomization: repoPath.optional(),
    /** More places that say where the service runs (other workloads, generic fields). */
    targets: z.array(targetConfigSchema).max(20).optional(),
    /** Promote automatically when its primary node is reported down (default false). */
    auto_failover: z.boolean().optional(),
    /** Demote automatically when the node's alert resolves (default false). */
    auto_failback: z.boolean().optional(),
    auto_failback_after: duration("auto_failback_after").optional(),
    /** This service's own cooldown after an automatic action. */
    cooldown: duration("cooldown").optional(),
    /** Refuse a promote whose backup copy is older than this (needs cluster access). */
    max_rpo: duration("max_rpo").optional(),
  })
  .strict()
  .refine(
    (s) =>
      s.deployment !== undefined
        ? s.helmrelease === undefined
        : s.helmrelease !== undefined || (s.targets ?? []).some((t) => "field" in t),
    {
      message:
        "set exactly one of deployment (a Deployment or StatefulSet) or helmrelease, or neither with field targets (for a chart other than app-template)",
      path: ["deployment"],
    },
  )
  .refine(
    (s) =>
      s.helmrelease !== undefined ||
      (s.persistence === undefined && s.chart === undefined && s.controller === undefined),
    {
      message: "persistence, chart and controller apply to a helmrelease only",
      path: ["helmrelease"],
    },
  );

export const servicesFileSchema = z
  .object({
    defaults: z
      .object({
        node_label_key: z
          .string()
          .regex(LABEL_KEY, "node_label_key must be a label key")
          .optional(),
        mode: z.enum(FAILOVER_MODES).optional(),
      })
      .strict()
      .optional(),
    /** Node names (as alerts and URLs say them) -> placement label values: `k3s-w1: primary`. */
    nodes: z.record(name("node name"), nodeLabel("node label value")).optional(),
    automation: automationSchema.optional(),
    services: z
      .record(
        z.string().regex(SERVICE_NAME, "service names must be lowercase DNS labels (a-z, 0-9, -)"),
        serviceConfigSchema,
      )
      .nullable()
      .transform((s) => s ?? {}),
  })
  .strict();

export type ServiceConfig = z.infer<typeof serviceConfigSchema>;
export type TargetConfig = z.infer<typeof targetConfigSchema>;
export type ServicesFile = z.infer<typeof servicesFileSchema>;
