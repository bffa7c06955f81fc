import type { FailoverContext } from "./context.js";

export interface ServiceSummary {
  readonly name: string;
  readonly namespace: string;
  readonly deployment: string | undefined;
  readonly helmrelease: string | undefined;
  readonly volume_name: string;
  readonly primary_pvc: string;
  readonly backup_pvc: string;
  readonly primary_node_label: string;
  readonly backup_node_label: string;
  readonly path: string | undefined;
}

/** The configured services, as the config writes them (no repository access). */
export function listServices(ctx: FailoverContext): ServiceSummary[] {
  return Object.entries(ctx.config().raw.services)
    .map(([name, s]) => ({
      name,
      namespace: s.namespace,
      deployment: s.deployment,
      helmrelease: s.helmrelease,
      volume_name: s.volume_name,
      primary_pvc: s.primary_pvc,
      backup_pvc: s.backup_pvc,
      primary_node_label: s.primary_node_label,
      backup_node_label: s.backup_node_label,
      path: s.path,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
