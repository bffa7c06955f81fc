import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StaleHeadError } from "../../src/domain/errors.js";
import { LocalGitRepo } from "../../src/repo/local/local-git-repo.js";
import { git } from "../helpers/git.js";
import { makeTempRepo, type TempRepo } from "../helpers/temp-git-repo.js";

/**
 * Local mode's process budget, counted through the adapter's spawn hook (never timed): a
 * promote (read the files, commit them) starts at most 4 git processes once warm (the
 * long-lived `cat-file --batch` is started once), whatever the repository's size.
 */
const DB = "apps/db/statefulset.yaml";

function manyFiles(count: number): Record<string, string> {
  const files: Record<string, string> = { [DB]: "kind: StatefulSet\nnode: node-a\n" };
  for (let i = 0; i < count; i++) {
    files[`apps/svc-${Math.floor(i / 50)}/file-${i}.yaml`] = `kind: ConfigMap\nindex: ${i}\n`;
  }
  return files;
}

describe("LocalGitRepo git processes per promote", () => {
  const temps: TempRepo[] = [];
  const repos: LocalGitRepo[] = [];
  afterEach(async () => {
    for (const r of repos.splice(0)) r.close();
    await Promise.all(temps.splice(0).map((t) => t.cleanup()));
  });

  async function counted(dir: string) {
    const spawned: string[] = [];
    const repo = new LocalGitRepo({ dir, onGitProcess: (args) => spawned.push(args.join(" ")) });
    repos.push(repo);
    return { repo, spawned };
  }

  async function promote(repo: LocalGitRepo, side: string) {
    const snap = await repo.read("main", [DB, "missing.yaml"]);
    const text = snap.files.get(DB) ?? "";
    return repo.commit({
      branch: "main",
      expectedHead: snap.head,
      message: `failover: ${side}\n\nFailover-Request: ${side}`,
      changes: [{ path: DB, text: text.replace(/node: \S+/, `node: ${side}`) }],
    });
  }

  for (const size of [3, 2000]) {
    it(`${size} files, checked out: at most 4 per promote, the work tree kept clean`, {
      timeout: 120_000,
    }, async () => {
      const t = await makeTempRepo(manyFiles(size));
      temps.push(t);
      const { repo, spawned } = await counted(t.dir);
      await promote(repo, "node-b"); // warm: start-up recovery, paths, the batch reader
      for (const side of ["node-c", "node-d"]) {
        spawned.length = 0;
        const { sha } = await promote(repo, side);
        expect(spawned.length, spawned.join("\n")).toBeLessThanOrEqual(4);
        expect(spawned.some((a) => a.startsWith("cat-file"))).toBe(false);
        expect(git(t.dir, "rev-parse", "HEAD").trim()).toBe(sha);
        expect(git(t.dir, "show", `HEAD:${DB}`)).toContain(`node: ${side}`);
        expect(git(t.dir, "status", "--porcelain")).toBe("");
        expect(git(t.dir, "for-each-ref", "refs/failover-api/")).toBe("");
      }
    });
  }

  it("bare: 2 per promote (build, land); nothing else", async () => {
    const t = await makeTempRepo(manyFiles(3));
    temps.push(t);
    const bare = join(t.dir, "..", "bare.git");
    execFileSync("git", ["clone", "-q", "--bare", t.dir, bare]);
    const { repo, spawned } = await counted(bare);
    await promote(repo, "node-b");
    spawned.length = 0;
    await promote(repo, "node-c");
    expect(spawned.map((a) => a.split(" ")[0])).toEqual(["fast-import", "update-ref"]);
  });

  it("the long-lived reader sees commits others made, and a stale head is refused", async () => {
    const t = await makeTempRepo(manyFiles(3));
    temps.push(t);
    const { repo } = await counted(t.dir);
    const before = await repo.read("main", [DB]);
    git(
      t.dir,
      "-c",
      "user.name=p",
      "-c",
      "user.email=p@x",
      "commit",
      "-q",
      "--allow-empty",
      "-m",
      "someone",
    );
    const after = await repo.read("main", [DB]);
    expect(after.head).toBe(git(t.dir, "rev-parse", "HEAD").trim());
    expect(after.head).not.toBe(before.head);
    await expect(
      repo.commit({
        branch: "main",
        expectedHead: before.head,
        message: "late",
        changes: [{ path: DB, text: "x\n" }],
      }),
    ).rejects.toBeInstanceOf(StaleHeadError);
    expect(git(t.dir, "for-each-ref", "refs/failover-api/")).toBe("");
    // Killed between reads: the next read starts another reader.
    repo.close();
    expect((await repo.read("main", [DB])).head).toBe(after.head);
  });

  it("a swap lost to a writer that then puts the branch back is a stale head, not a git failure", async () => {
    const t = await makeTempRepo(manyFiles(3));
    temps.push(t);
    const identity = ["-c", "user.name=p", "-c", "user.email=p@x"];
    git(t.dir, ...identity, "commit", "-q", "--allow-empty", "-m", "elsewhere");
    const elsewhere = git(t.dir, "rev-parse", "HEAD").trim();
    git(t.dir, "update-ref", "refs/heads/main", t.head, elsewhere);
    // Another writer moves main just before our landing transaction and back to our head
    // right after it (the next git process we start): git refuses the swap, and a re-read
    // alone would find main where we expected it.
    let step = 0;
    const repo = new LocalGitRepo({
      dir: t.dir,
      onGitProcess: (args) => {
        if (step === 0 && args[0] === "update-ref" && args.includes("--stdin")) {
          step = 1;
          git(t.dir, "update-ref", "refs/heads/main", elsewhere, t.head);
        } else if (step === 1) {
          step = 2;
          git(t.dir, "update-ref", "refs/heads/main", t.head, elsewhere);
        }
      },
    });
    repos.push(repo);
    const failure = await repo
      .commit({
        branch: "main",
        expectedHead: t.head,
        message: "failover: node-b",
        changes: [{ path: DB, text: "kind: StatefulSet\nnode: node-b\n" }],
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(step).toBe(2);
    expect(failure).toBeInstanceOf(StaleHeadError);
    expect(String(failure)).toContain(elsewhere);
    expect(git(t.dir, "rev-parse", "main").trim()).toBe(t.head);
    expect(git(t.dir, "for-each-ref", "refs/failover-api/")).toBe("");
  });

  it("removes a dead process's build refs and their lock files, and only those", async () => {
    const t = await makeTempRepo(manyFiles(3));
    temps.push(t);
    const tmp = join(t.dir, ".git", "refs", "failover-api", "tmp");
    const dead = `999999-${randomUUID()}-1`; // no such pid
    const live = `${process.ppid}-${randomUUID()}-1`; // a live process: another replica
    git(t.dir, "update-ref", `refs/failover-api/tmp/${dead}`, t.head);
    git(t.dir, "update-ref", `refs/failover-api/tmp/${live}`, t.head);
    await writeFile(join(tmp, `${dead}.lock`), `${t.head}\n`);
    const { repo } = await counted(t.dir);
    await promote(repo, "node-b");
    expect(await readdir(tmp)).toEqual([live]);
  });
});
