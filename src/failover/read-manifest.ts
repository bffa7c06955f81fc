import { FailoverError } from "../domain/errors.js";
import type { ServiceSpec } from "../domain/service.js";
import type { FailoverContext } from "./context.js";

export interface ManifestAtHead {
  readonly branch: string;
  readonly head: string;
  readonly path: string;
  readonly text: string;
}

/** Reads a service's manifest and the head it was read at, in one repository read. */
export async function readManifest(
  ctx: FailoverContext,
  spec: ServiceSpec,
): Promise<ManifestAtHead> {
  const branch = await ctx.branch();
  for (let attempt = 0; attempt < 2; attempt++) {
    const path = await ctx.locator.locate(ctx.repo, branch, spec);
    const snapshot = await ctx.repo.read(branch, [path]);
    const text = snapshot.files.get(path);
    if (text !== null && text !== undefined) return { branch, head: snapshot.head, path, text };
    if (spec.path !== undefined) {
      throw new FailoverError(
        "not_found",
        `manifest ${path} of service "${spec.name}" does not exist on ${branch} (${ctx.repo.description}); fix "path" in the config`,
        { details: { service: spec.name, path, head: snapshot.head } },
      );
    }
    // A searched-for manifest moved: search again once.
    ctx.locator.forget(spec.name);
  }
  throw new FailoverError(
    "not_found",
    `manifest of service "${spec.name}" disappeared while reading`,
  );
}
