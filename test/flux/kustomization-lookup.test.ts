import { describe, expect, it } from "vitest";
import type { FailoverContext } from "../../src/failover/context.js";
import { kustomizationLookup } from "../../src/flux/kustomization-lookup.js";
import type { Operation } from "../../src/operations/operation.js";

/** Only the services config is read before the refusal: anything else would be a bug. */
const ctx = {
  config: () => ({ services: new Map() }),
} as unknown as FailoverContext;

const op = (services: string[]): Operation => ({
  id: "op-1",
  action: "promote",
  trigger: "alertmanager",
  requester: "alertmanager",
  node: "primary",
  services,
  status: "committed",
  phases: [],
  commit: { sha: "0123456789abcdef0123456789abcdef01234567", url: undefined },
  pullRequest: undefined,
  flux: undefined,
  rtoSeconds: undefined,
});

describe("which Kustomizations apply an operation: cannot tell is not 'any'", () => {
  it("a service no longer configured rejects (the confirmation then decides nothing)", async () => {
    await expect(kustomizationLookup(ctx)(op(["sonarr"]))).rejects.toMatchObject({
      code: "not_found",
      message: expect.stringContaining("sonarr not in the services config"),
    });
    await expect(kustomizationLookup(ctx)(op([]))).rejects.toMatchObject({ code: "not_found" });
  });
});
