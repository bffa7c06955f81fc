import type { ServiceSpec } from "./service.js";

const MANIFEST_NAMES = ["deployment.yaml", "deployment.yml", "statefulset.yaml", "statefulset.yml"];

/**
 * The seed found a service's manifest by looking for `<deployment>/deployment.yaml` under the
 * apps tree. Same rule, any depth; when several match, those under a folder named after the
 * namespace win. Returns every remaining candidate: the caller refuses unless exactly one.
 */
export function manifestCandidates(spec: ServiceSpec, files: readonly string[]): string[] {
  const folder = spec.target.name;
  const matches = files.filter((file) => {
    const parts = file.split("/");
    const base = parts.at(-1);
    return parts.at(-2) === folder && base !== undefined && MANIFEST_NAMES.includes(base);
  });
  if (matches.length <= 1 || spec.target.namespace === undefined) return matches;
  const ns = spec.target.namespace;
  const inNamespace = matches.filter((file) => file.split("/").slice(0, -2).includes(ns));
  return inNamespace.length > 0 ? inNamespace : matches;
}
