import { FailoverError } from "../domain/errors.js";
import type { ServiceSpec } from "../domain/service.js";
import type { FailoverContext } from "./context.js";

export function findService(ctx: FailoverContext, name: string): ServiceSpec {
  const services = ctx.config().services;
  const spec = services.get(name);
  if (spec === undefined) {
    const known = [...services.keys()].sort();
    throw new FailoverError(
      "not_found",
      `unknown service "${name}"; configured: ${known.length > 0 ? known.join(", ") : "none"}`,
      { details: { service: name, known } },
    );
  }
  return spec;
}

/** Services whose primary node is `node` (node-wide failover and failback). */
export function servicesOnNode(ctx: FailoverContext, node: string): ServiceSpec[] {
  const found = [...ctx.config().services.values()]
    .filter((s) => s.nodes.primary === node)
    .sort((a, b) => a.name.localeCompare(b.name));
  if (found.length === 0) {
    const nodes = [
      ...new Set([...ctx.config().services.values()].map((s) => s.nodes.primary)),
    ].sort();
    throw new FailoverError(
      "not_found",
      `no service has primary node "${node}"; primary nodes configured: ${nodes.join(", ") || "none"}`,
      { details: { node, nodes } },
    );
  }
  return found;
}
