import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { git } from "../helpers/git.js";
import { makeTempRepo, type TempRepo } from "../helpers/temp-git-repo.js";
import { FakeGitStore } from "./git-store.js";

/** The fake lists refs from git's files: the same answer as `git for-each-ref`, in its order. */
describe("FakeGitStore.refs", () => {
  let t: TempRepo;
  beforeEach(async () => {
    t = await makeTempRepo({ "a.yaml": "a: 1\n" });
  });
  afterEach(async () => {
    t.repo.close();
    await t.cleanup();
  });
  const forEachRef = (prefix: string) =>
    git(t.dir, "for-each-ref", "--format=%(refname) %(objectname)", prefix)
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => ({ name: l.split(" ")[0], oid: l.split(" ")[1] }));

  it("packed refs, loose refs over packed ones, nested names, a deleted ref: as for-each-ref", async () => {
    const first = t.head;
    git(t.dir, "commit", "--allow-empty", "-q", "-m", "second");
    const second = git(t.dir, "rev-parse", "HEAD").trim();
    for (const name of ["failover/sonarr", "failover/radarr", "failover-x", "z", "gone"]) {
      git(t.dir, "update-ref", `refs/heads/${name}`, first);
    }
    git(t.dir, "pack-refs", "--all");
    // Loose over packed, a new loose ref, a packed ref deleted.
    git(t.dir, "update-ref", "refs/heads/failover/sonarr", second);
    git(t.dir, "update-ref", "refs/heads/failover/lidarr/x", second);
    git(t.dir, "update-ref", "-d", "refs/heads/gone");
    const store = new FakeGitStore(t.dir);
    for (const prefix of ["refs/heads/", "refs/heads/failover/", "refs/tags/"]) {
      expect(await store.refs(prefix), prefix).toEqual(forEachRef(prefix));
    }
    expect((await store.refs("refs/heads/failover/")).map((r) => r.name)).toEqual([
      "refs/heads/failover/lidarr/x",
      "refs/heads/failover/radarr",
      "refs/heads/failover/sonarr",
    ]);
  });

  it("a symbolic ref among them: git is asked", async () => {
    git(t.dir, "symbolic-ref", "refs/heads/alias", "refs/heads/main");
    const store = new FakeGitStore(t.dir);
    expect(await store.refs("refs/heads/")).toEqual(forEachRef("refs/heads/"));
  });
});
