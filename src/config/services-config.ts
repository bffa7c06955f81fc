import { parse } from "yaml";
import type { z } from "zod";
import { FailoverError } from "../domain/errors.js";
import type { ServiceSpec, TargetSpec } from "../domain/service.js";
import { type ServiceConfig, type ServicesFile, servicesFileSchema } from "./services-schema.js";

/** The seed's nodeSelector key: `primary_node_label: primary` means `role: primary`. */
export const DEFAULT_NODE_LABEL_KEY = "role";
export const MAX_CONFIG_BYTES = 256 * 1024;

export interface ServicesConfig {
  readonly services: ReadonlyMap<string, ServiceSpec>;
  /** The service's own mode, else the file's default; undefined leaves it to the process. */
  readonly modes: ReadonlyMap<string, "urgent" | "pr" | undefined>;
  /** As written, for `GET /api/services`. */
  readonly raw: ServicesFile;
}

/** Parses and validates the services YAML. Errors name the service and the field. */
export function parseServicesConfig(text: string, source: string): ServicesConfig {
  if (Buffer.byteLength(text, "utf8") > MAX_CONFIG_BYTES) {
    throw new FailoverError("config_invalid", `${source}: larger than ${MAX_CONFIG_BYTES} bytes`);
  }
  let data: unknown;
  try {
    data = parse(text, { maxAliasCount: 50, uniqueKeys: true, prettyErrors: false });
  } catch (error) {
    throw new FailoverError(
      "config_invalid",
      `${source}: not valid YAML: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const result = servicesFileSchema.safeParse(data);
  if (!result.success) {
    throw new FailoverError("config_invalid", `${source}: ${describeIssues(result.error)}`, {
      details: { issues: result.error.issues.map((i) => ({ path: i.path, message: i.message })) },
    });
  }
  const services = new Map<string, ServiceSpec>();
  const modes = new Map<string, "urgent" | "pr" | undefined>();
  for (const [name, svc] of Object.entries(result.data.services)) {
    const defaultKey = result.data.defaults?.node_label_key ?? DEFAULT_NODE_LABEL_KEY;
    services.set(name, toServiceSpec(name, svc, defaultKey, source));
    modes.set(name, svc.mode ?? result.data.defaults?.mode);
  }
  return { services, modes, raw: result.data };
}

function toServiceSpec(
  name: string,
  svc: ServiceConfig,
  defaultKey: string,
  source: string,
): ServiceSpec {
  const primary = splitNodeLabel(svc.primary_node_label, svc.node_label_key ?? defaultKey);
  const backup = splitNodeLabel(svc.backup_node_label, svc.node_label_key ?? defaultKey);
  const fail = (field: string, message: string) =>
    new FailoverError("config_invalid", `${source}: services.${name}.${field}: ${message}`);
  if (primary.key !== backup.key) {
    throw fail(
      "backup_node_label",
      `label key "${backup.key}" differs from primary_node_label's "${primary.key}"; both sides must use one key`,
    );
  }
  if (primary.value === backup.value) {
    throw fail("backup_node_label", `must differ from primary_node_label ("${primary.value}")`);
  }
  if (svc.primary_pvc === svc.backup_pvc) {
    throw fail("backup_pvc", `must differ from primary_pvc ("${svc.primary_pvc}")`);
  }
  const sides = {
    nodeLabelKey: primary.key,
    primary: { claim: svc.primary_pvc, node: primary.value },
    backup: { claim: svc.backup_pvc, node: backup.value },
  };
  const fieldOnly = svc.deployment === undefined && svc.helmrelease === undefined;
  const main: TargetSpec =
    svc.helmrelease !== undefined
      ? {
          type: "helmrelease",
          path: svc.path,
          release: {
            name: svc.helmrelease,
            namespace: svc.namespace,
            persistence: svc.persistence ?? svc.volume_name,
            ...(svc.controller === undefined ? {} : { controller: svc.controller }),
            ...(svc.chart === undefined ? {} : { chart: svc.chart }),
            ...sides,
          },
        }
      : {
          type: "workload",
          path: svc.path,
          workload: {
            ...(svc.kind === undefined ? {} : { kind: svc.kind }),
            name: svc.deployment ?? name,
            namespace: svc.namespace,
            volumeName: svc.volume_name,
            ...sides,
          },
        };
  const extra = (svc.targets ?? []).map((t): TargetSpec => {
    if ("field" in t) {
      return {
        type: "field",
        path: t.path,
        target: {
          field: t.field,
          primary: t.primary,
          backup: t.backup,
          ...(t.document === undefined
            ? {}
            : {
                document: {
                  ...(t.document.kind === undefined ? {} : { kind: t.document.kind }),
                  ...(t.document.name === undefined ? {} : { name: t.document.name }),
                },
              }),
        },
      };
    }
    if (t.kind === "HelmRelease") {
      return {
        type: "helmrelease",
        path: t.path,
        release: {
          name: t.name,
          namespace: svc.namespace,
          persistence: t.persistence ?? svc.volume_name,
          ...(t.controller === undefined ? {} : { controller: t.controller }),
          ...sides,
        },
      };
    }
    return {
      type: "workload",
      path: t.path,
      workload: {
        kind: t.kind,
        name: t.name,
        namespace: svc.namespace,
        volumeName: t.volume_name ?? svc.volume_name,
        ...sides,
      },
    };
  });
  return {
    name,
    namespace: svc.namespace,
    nodes: { primary: primary.value, backup: backup.value },
    targets: fieldOnly ? extra : [main, ...extra],
    ...(svc.flux_kustomization === undefined ? {} : { fluxKustomization: svc.flux_kustomization }),
  };
}

/** `primary` -> (defaultKey, primary); `kubernetes.io/hostname=k3s-w1` -> (that key, k3s-w1). */
function splitNodeLabel(label: string, defaultKey: string): { key: string; value: string } {
  const eq = label.indexOf("=");
  return eq < 0
    ? { key: defaultKey, value: label }
    : { key: label.slice(0, eq), value: label.slice(eq + 1) };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => {
      const path = issue.path.map(String).join(".");
      // zod reports a bad record key as "Invalid key in record" with the reason nested.
      const message =
        issue.code === "invalid_key" ? (issue.issues[0]?.message ?? issue.message) : issue.message;
      return path === "" ? message : `${path}: ${message}`;
    })
    .join("; ");
}
