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
