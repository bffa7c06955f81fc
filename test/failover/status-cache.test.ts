import { describe, expect, it } from "vitest";
import type { ServiceSpec } from "../../src/domain/service.js";
import type { ServiceStatus } from "../../src/failover/status.js";
import { StatusCache } from "../../src/failover/status-cache.js";
import type { GitOpsRepo, HeadProbe, SeenHead } from "../../src/repo/port.js";

const A = "a".repeat(40);
const B = "b".repeat(40);

/** A repository whose head the test sets; records what each probe was given. */
function repoAt(state: { head: string }, seen: (SeenHead | undefined)[]): GitOpsRepo {
  return {
    probeHead: async (_branch: string, known?: SeenHead): Promise<HeadProbe> => {
      seen.push(known);
      return {
        head: state.head,
        validator: `"${state.head}"`,
        unchanged: known?.head === state.head,
      };
    },
  } as unknown as GitOpsRepo;
}

const spec = (name: string) => ({ name }) as unknown as ServiceSpec;
const status = (service: string, head: string) => ({ service, head }) as unknown as ServiceStatus;

describe("StatusCache", () => {
  it("serves a status only at the head and for the very spec it was computed with", async () => {
    const cache = new StatusCache();
    const seen: (SeenHead | undefined)[] = [];
    const state = { head: A };
    const repo = repoAt(state, seen);
    const sonarr = spec("sonarr");
    const probed = await cache.probe(repo, "main");
    cache.store("main", probed.generation, A, [{ spec: sonarr, status: status("sonarr", A) }]);
    expect(cache.get("main", A, sonarr)?.status).toEqual(status("sonarr", A));
    expect(cache.get("main", B, sonarr)).toBeUndefined();
    expect(cache.get("other", A, sonarr)).toBeUndefined();
    expect(cache.get("main", A, spec("sonarr"))).toBeUndefined(); // a reloaded config
    await cache.probe(repo, "main");
    expect(seen).toEqual([undefined, { head: A, validator: `"${A}"` }]);
  });

  it("after moved, a read begun before stores nothing and the next probe is unconditional", async () => {
    const cache = new StatusCache();
    const seen: (SeenHead | undefined)[] = [];
    const state = { head: A };
    const repo = repoAt(state, seen);
    const sonarr = spec("sonarr");
    const before = await cache.probe(repo, "main");
    cache.moved("main", B); // our commit lands while that read is in flight
    cache.store("main", before.generation, A, [{ spec: sonarr, status: status("sonarr", A) }]);
    expect(cache.get("main", A, sonarr)).toBeUndefined();
    await cache.probe(repo, "main");
    expect(seen).toEqual([undefined, undefined]);
  });

  it("moved to the head already read keeps the statuses (the webhook of a commit read since)", async () => {
    const cache = new StatusCache();
    const seen: (SeenHead | undefined)[] = [];
    const repo = repoAt({ head: B }, seen);
    const sonarr = spec("sonarr");
    const probed = await cache.probe(repo, "main");
    cache.store("main", probed.generation, B, [{ spec: sonarr, status: status("sonarr", B) }]);
    cache.moved("main", B.toUpperCase());
    expect(cache.get("main", B, sonarr)?.status).toEqual(status("sonarr", B));
    cache.moved("main"); // a deleted branch, or a head not known
    expect(cache.get("main", B, sonarr)).toBeUndefined();
  });
});
