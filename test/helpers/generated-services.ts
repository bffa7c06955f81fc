import { readFileSync } from "node:fs";
import { DEMO_CONFIG } from "../../src/demo/demo-repo.js";

/** The demo's radarr manifest: the shape every generated service copies. */
export const TEMPLATE_PATH = "clusters/homelab/apps/media/radarr/deployment.yaml";

export interface GeneratedService {
  readonly name: string;
  readonly path: string;
}

/** svc-01..svc-N, each with its own deployment.yaml under `dir`. */
export function generatedServices(count: number, dir: string): GeneratedService[] {
  const width = Math.max(2, String(count).length);
  return Array.from({ length: count }, (_, i) => {
    const name = `svc-${String(i + 1).padStart(width, "0")}`;
    return { name, path: `${dir}/${name}/deployment.yaml` };
  });
}

/** The seed's deployment with radarr's names replaced: same fields, same layout. */
export function generatedManifest(template: string, name: string): string {
  return template.replaceAll("radarr", name);
}

/** examples/services.yaml plus one entry per generated service (with an explicit path). */
export function generatedConfig(services: readonly GeneratedService[]): string {
  const entries = services.map((s) =>
    [
      `  ${s.name}:`,
      "    namespace: media",
      `    deployment: ${s.name}`,
      `    volume_name: ${s.name}-data`,
      `    primary_pvc: pvc-${s.name}`,
      `    backup_pvc: pvc-${s.name}-backup`,
      "    primary_node_label: primary",
      "    backup_node_label: backup",
      `    path: ${s.path}`,
    ].join("\n"),
  );
  const demo = readFileSync(DEMO_CONFIG, "utf8").trimEnd();
  return entries.length === 0 ? `${demo}\n` : `${demo}\n\n${entries.join("\n")}\n`;
}
