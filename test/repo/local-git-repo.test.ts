import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FailoverError, StaleHeadError } from "../../src/domain/errors.js";
import { GitCommandError } from "../../src/repo/local/git-cli.js";
import { initRepo, LocalGitRepo } from "../../src/repo/local/local-git-repo.js";
import { commitCount, git } from "../helpers/git.js";
import {
  makeTempDir,
  makeTempRepo,
  removeTempDir,
  type TempRepo,
} from "../helpers/temp-git-repo.js";
import { describeRepoContract } from "./repo-contract.js";

describeRepoContract("LocalGitRepo (non-bare, branch checked out)", async (files) => {
  const temp = await makeTempRepo(files);
  return { repo: temp.repo, branch: temp.branch, cleanup: temp.cleanup };
});

describeRepoContract("LocalGitRepo (bare clone, other branch name)", async (files) => {
  const temp = await makeTempRepo(files, { branch: "production" });
  const bare = join(temp.dir, "..", "bare.git");
  execFileSync("git", ["clone", "-q", "--bare", temp.dir, bare]);
  return { repo: new LocalGitRepo({ dir: bare }), branch: "production", cleanup: temp.cleanup };
});

const FILES = {
  "apps/db/statefulset.yaml": "kind: StatefulSet\nnode: node-a\n",
  "apps/web/deployment.yaml": "kind: Deployment\n",
  "scripts/run.sh": "#!/bin/sh\necho hi\n",
};

describe("LocalGitRepo (local only)", () => {
  const temps: TempRepo[] = [];
  const temp = async (files: Record<string, string> = FILES): Promise<TempRepo> => {
    const t = await makeTempRepo(files);
    temps.push(t);
    return t;
  };
  afterEach(async () => {
    await Promise.all(temps.splice(0).map((t) => t.cleanup()));
  });

  const status = (dir: string): string =>
    git(dir, "status", "--porcelain", "--untracked-files=all");

  it("initRepo makes a non-bare repo with one commit, checked out and clean", async () => {
    const t = await temp();
    expect(git(t.dir, "rev-parse", "HEAD").trim()).toBe(t.head);
    expect(git(t.dir, "rev-parse", "--is-bare-repository").trim()).toBe("false");
    expect(git(t.dir, "symbolic-ref", "HEAD").trim()).toBe("refs/heads/main");
    expect(commitCount(t.dir)).toBe(1);
    expect(status(t.dir)).toBe("");
    expect(await readFile(join(t.dir, "apps/db/statefulset.yaml"), "utf8")).toBe(
      FILES["apps/db/statefulset.yaml"],
    );
    expect(git(t.dir, "log", "-1", "--format=%an <%ae>|%B").trim()).toBe(
      "failover-api <failover-api@localhost>|Initial commit",
    );
    expect(t.repo.description).toBe(`local git repository at ${t.dir}`);
  });

  it("keeps the checked-out work tree clean and updated after a commit", async () => {
    const t = await temp();
    const { sha } = await t.repo.commit({
      branch: "main",
      expectedHead: t.head,
      message: "Fail over db",
      changes: [
        { path: "apps/db/statefulset.yaml", text: "kind: StatefulSet\nnode: node-b\n" },
        { path: "apps/new/dir/file.yaml", text: "new: true\r\n" },
      ],
    });
    expect(git(t.dir, "rev-parse", "HEAD").trim()).toBe(sha);
    expect(status(t.dir)).toBe("");
    expect(await readFile(join(t.dir, "apps/db/statefulset.yaml"), "utf8")).toBe(
      "kind: StatefulSet\nnode: node-b\n",
    );
    expect(await readFile(join(t.dir, "apps/new/dir/file.yaml"), "utf8")).toBe("new: true\r\n");
  });

  it("keeps the work tree in step across concurrent and sequential commits", async () => {
    const t = await temp();
    let head = t.head;
    for (let i = 0; i < 3; i++) {
      const results = await Promise.allSettled(
        [0, 1, 2].map((j) =>
          t.repo.commit({
            branch: "main",
            expectedHead: head,
            message: `round ${i} writer ${j}`,
            changes: [{ path: `apps/w${j}.yaml`, text: `round: ${i}\n` }],
          }),
        ),
      );
      const won = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.sha] : []));
      expect(won).toHaveLength(1);
      head = won[0] ?? "";
    }
    expect(git(t.dir, "rev-parse", "HEAD").trim()).toBe(head);
    expect(status(t.dir)).toBe("");
  });

  it("leaves a work tree with local modifications alone but still lands the commit", async () => {
    const t = await temp();
    const local = "kind: StatefulSet\nnode: edited-by-hand\n";
    await writeFile(join(t.dir, "apps/db/statefulset.yaml"), local);
    const warnings: string[] = [];
    const repo = new LocalGitRepo({ dir: t.dir, onWarning: (m) => warnings.push(m) });
    const { sha } = await repo.commit({
      branch: "main",
      expectedHead: t.head,
      message: "Fail over db",
      changes: [{ path: "apps/db/statefulset.yaml", text: "kind: StatefulSet\nnode: node-b\n" }],
    });
    expect(git(t.dir, "rev-parse", "refs/heads/main").trim()).toBe(sha);
    expect(await readFile(join(t.dir, "apps/db/statefulset.yaml"), "utf8")).toBe(local);
    const snap = await repo.read("main", ["apps/db/statefulset.yaml"]);
    expect(snap.files.get("apps/db/statefulset.yaml")).toBe("kind: StatefulSet\nnode: node-b\n");
    expect(warnings).toHaveLength(1);
  });

  it("keeps unrelated local modifications and updates the rest of the work tree", async () => {
    const t = await temp();
    await writeFile(join(t.dir, "apps/web/deployment.yaml"), "kind: Deployment\n# mine\n");
    await t.repo.commit({
      branch: "main",
      expectedHead: t.head,
      message: "Fail over db",
      changes: [{ path: "apps/db/statefulset.yaml", text: "node: node-b\n" }],
    });
    expect(await readFile(join(t.dir, "apps/db/statefulset.yaml"), "utf8")).toBe("node: node-b\n");
    expect(await readFile(join(t.dir, "apps/web/deployment.yaml"), "utf8")).toBe(
      "kind: Deployment\n# mine\n",
    );
    expect(status(t.dir)).toBe(" M apps/web/deployment.yaml\n");
  });

  it("does not touch the work tree when another branch is checked out", async () => {
    const t = await temp();
    git(t.dir, "checkout", "-q", "-b", "other");
    const { sha } = await t.repo.commit({
      branch: "main",
      expectedHead: t.head,
      message: "Change main only",
      changes: [{ path: "apps/db/statefulset.yaml", text: "node: node-b\n" }],
    });
    expect(git(t.dir, "rev-parse", "main").trim()).toBe(sha);
    expect(status(t.dir)).toBe("");
    expect(await readFile(join(t.dir, "apps/db/statefulset.yaml"), "utf8")).toBe(
      FILES["apps/db/statefulset.yaml"],
    );
    expect(await t.repo.defaultBranch()).toBe("other");
  });

  it("round-trips a UTF-8 BOM and preserves an executable file's mode", async () => {
    const t = await temp();
    await chmod(join(t.dir, "scripts/run.sh"), 0o755);
    git(t.dir, "update-index", "--chmod=+x", "scripts/run.sh");
    git(t.dir, "commit", "-q", "-m", "make executable");
    const head = git(t.dir, "rev-parse", "HEAD").trim();
    const bom = "\uFEFFapiVersion: v1\r\nkind: ConfigMap";
    const { sha } = await t.repo.commit({
      branch: "main",
      expectedHead: head,
      message: "BOM and script",
      changes: [
        { path: "apps/bom.yaml", text: bom },
        { path: "scripts/run.sh", text: "#!/bin/sh\necho changed\n" },
      ],
    });
    const snap = await t.repo.read("main", ["apps/bom.yaml"]);
    expect(snap.files.get("apps/bom.yaml")).toBe(bom);
    const raw = execFileSync("git", ["-C", t.dir, "cat-file", "blob", `${sha}:apps/bom.yaml`]);
    expect(raw.equals(Buffer.from(bom, "utf8"))).toBe(true);
    expect(raw.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(true);
    expect(git(t.dir, "ls-tree", sha, "scripts/run.sh")).toMatch(/^100755 blob /);
    expect(status(t.dir)).toBe("");
  });

  it("is not fooled by core.autocrlf or .gitattributes in the repository", async () => {
    const t = await temp({ ".gitattributes": "* text=auto eol=crlf\n", "a.yaml": "a: 1\n" });
    git(t.dir, "config", "core.autocrlf", "true");
    const { sha } = await t.repo.commit({
      branch: "main",
      expectedHead: t.head,
      message: "LF and CRLF",
      changes: [
        { path: "a.yaml", text: "a: 2\n" },
        { path: "b.yaml", text: "b: 1\r\n" },
      ],
    });
    expect(execFileSync("git", ["-C", t.dir, "cat-file", "blob", `${sha}:a.yaml`]).toString()).toBe(
      "a: 2\n",
    );
    const snap = await t.repo.read("main", ["a.yaml", "b.yaml"]);
    expect(snap.files.get("a.yaml")).toBe("a: 2\n");
    expect(snap.files.get("b.yaml")).toBe("b: 1\r\n");
  });

  it("validates paths, branches, heads and changes", async () => {
    const t = await temp();
    const bad = [
      "../etc/passwd",
      "/etc/passwd",
      "a/../b",
      "a\0b",
      "",
      "a//b",
      "a/",
      ".git/config",
      "a\nb",
    ];
    for (const path of bad) {
      await expect(t.repo.read("main", [path])).rejects.toMatchObject({ code: "invalid_input" });
      await expect(
        t.repo.commit({
          branch: "main",
          expectedHead: t.head,
          message: "bad",
          changes: [{ path, text: "x" }],
        }),
      ).rejects.toMatchObject({ code: "invalid_input" });
    }
    const base = { branch: "main", expectedHead: t.head, message: "m" };
    await expect(t.repo.commit({ ...base, changes: [] })).rejects.toMatchObject({
      code: "invalid_input",
    });
    await expect(
      t.repo.commit({ ...base, expectedHead: "HEAD", changes: [{ path: "a", text: "" }] }),
    ).rejects.toMatchObject({ code: "invalid_input" });
    await expect(
      t.repo.commit({ ...base, message: "  ", changes: [{ path: "a", text: "" }] }),
    ).rejects.toMatchObject({ code: "invalid_input" });
    await expect(
      t.repo.commit({
        ...base,
        changes: [
          { path: "a.yaml", text: "1" },
          { path: "a.yaml", text: "2" },
        ],
      }),
    ).rejects.toMatchObject({ code: "invalid_input" });
    // A file where a directory would have to be, and a directory where a file would have to be.
    await expect(
      t.repo.commit({ ...base, changes: [{ path: "scripts/run.sh/x", text: "" }] }),
    ).rejects.toMatchObject({ code: "invalid_input" });
    await expect(
      t.repo.commit({ ...base, changes: [{ path: "apps/db", text: "" }] }),
    ).rejects.toMatchObject({ code: "invalid_input" });
    await expect(t.repo.read("--upload-pack=x", ["a"])).rejects.toMatchObject({
      code: "invalid_input",
    });
    await expect(t.repo.history("main", { limit: -1 })).rejects.toMatchObject({
      code: "invalid_input",
    });
    expect(commitCount(t.dir)).toBe(1);
    expect(status(t.dir)).toBe("");
  });

  it("treats a commit to an unknown branch as not_found and an unknown head as stale", async () => {
    const t = await temp();
    await expect(
      t.repo.commit({
        branch: "nope",
        expectedHead: t.head,
        message: "m",
        changes: [{ path: "a", text: "" }],
      }),
    ).rejects.toMatchObject({ code: "not_found" });
    const stale = t.repo.commit({
      branch: "main",
      expectedHead: "0".repeat(40),
      message: "m",
      changes: [{ path: "a", text: "" }],
    });
    await expect(stale).rejects.toBeInstanceOf(StaleHeadError);
    await expect(stale).rejects.toMatchObject({
      details: { branch: "main", expected: "0".repeat(40), actual: t.head },
    });
  });

  it("wraps git failures as upstream errors that keep git's stderr", async () => {
    const dir = await makeTempDir();
    try {
      const repo = new LocalGitRepo({ dir });
      const error = await repo.read("main", ["a"]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FailoverError);
      expect((error as FailoverError).code).toBe("upstream");
      const cause = (error as FailoverError).cause;
      expect(cause).toBeInstanceOf(GitCommandError);
      expect((cause as GitCommandError).stderr).toMatch(/not a git repository/i);
    } finally {
      await removeTempDir(dir);
    }
  });

  it("initRepo refuses to overwrite an existing branch", async () => {
    const t = await temp();
    await expect(initRepo(t.dir, { "x.yaml": "x\n" })).rejects.toMatchObject({ code: "upstream" });
    expect(git(t.dir, "rev-parse", "main").trim()).toBe(t.head);
  });

  it("uses the configured author for commits", async () => {
    const t = await temp();
    const repo = new LocalGitRepo({
      dir: t.dir,
      authorName: "Ops Bot",
      authorEmail: "ops@example.com",
    });
    await repo.commit({
      branch: "main",
      expectedHead: t.head,
      message: "m",
      changes: [{ path: "a", text: "" }],
    });
    expect(git(t.dir, "log", "-1", "--format=%an <%ae> / %cn <%ce>").trim()).toBe(
      "Ops Bot <ops@example.com> / Ops Bot <ops@example.com>",
    );
    const [latest] = await repo.history("main", { limit: 1 });
    expect(latest?.author).toBe("Ops Bot");
  });
});

/**
 * What a process killed mid-commit leaves (the state proof test/proof/sigkill-local.test.ts
 * produces with real kills), built by hand: the ref moved, the checkout's index and work tree
 * still at the parent, git's lock files and our lock and temp directory left behind, all dated
 * before this process started, the lock naming a dead owner (our own pid, another process id:
 * a reused pid).
 */
describe("LocalGitRepo recovery after a dead process", () => {
  const temps: TempRepo[] = [];
  /** Processes a test started to stand for a lock's owner. */
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill("SIGKILL");
    await Promise.all(temps.splice(0).map((t) => t.cleanup()));
  });
  const DB = "apps/db/statefulset.yaml";

  async function killedMidCommit(
    options: { personEdit?: string; owner?: Record<string, unknown> } = {},
  ) {
    const t = await makeTempRepo(FILES);
    temps.push(t);
    // The commit the dead process made: db on node-b (built like the adapter does).
    const blob = execFileSync("git", ["-C", t.dir, "hash-object", "-w", "--stdin"], {
      input: "kind: StatefulSet\nnode: node-b\n",
      encoding: "utf8",
    }).trim();
    const index = join(t.dir, ".git", "scratch-index");
    const env = { ...process.env, GIT_INDEX_FILE: index };
    execFileSync("git", ["-C", t.dir, "read-tree", t.head], { env });
    execFileSync("git", ["-C", t.dir, "update-index", "--cacheinfo", `100644,${blob},${DB}`], {
      env,
    });
    const tree = execFileSync("git", ["-C", t.dir, "write-tree"], { env, encoding: "utf8" }).trim();
    await rm(index);
    const landed = git(t.dir, "commit-tree", tree, "-p", t.head, "-m", "Fail over db").trim();
    git(t.dir, "update-ref", "refs/heads/main", landed, t.head);
    if (options.personEdit !== undefined) await writeFile(join(t.dir, DB), options.personEdit);
    const ours = join(t.dir, ".git", "failover-api");
    await mkdir(join(ours, "tmp", `${process.pid}-${randomUUID()}-abc`), { recursive: true });
    // Before this process started, however long the file has run: a dead process's leftovers.
    const at = Math.floor(performance.timeOrigin) - 60_000;
    await writeFile(
      join(ours, "lock"),
      JSON.stringify({
        pid: process.pid,
        process: randomUUID(),
        started: at - 1000,
        at,
        branch: "main",
        from: t.head,
        to: landed,
        paths: [DB],
        ...options.owner,
      }),
    );
    const locks = ["HEAD.lock", "index.lock", "refs/heads/main.lock"].map((p) =>
      join(t.dir, ".git", p),
    );
    for (const lock of locks) await writeFile(lock, "");
    const old = new Date(at + 10);
    for (const file of [...locks, join(ours, "lock")]) await utimes(file, old, old);
    return { t, landed };
  }

  it("clears its lock files and temp dirs, brings index and work tree to HEAD, commits", async () => {
    const { t, landed } = await killedMidCommit();
    expect(git(t.dir, "diff", "--cached", "--stat", "HEAD")).not.toBe(""); // the reversed failover
    const warnings: string[] = [];
    const repo = new LocalGitRepo({ dir: t.dir, onWarning: (m) => warnings.push(m) });
    const { sha } = await repo.commit({
      branch: "main",
      expectedHead: landed,
      message: "Fail over web",
      changes: [{ path: "apps/web/deployment.yaml", text: "kind: Deployment\nnode: b\n" }],
    });
    expect(git(t.dir, "rev-parse", "HEAD").trim()).toBe(sha);
    expect(git(t.dir, "status", "--porcelain", "--untracked-files=all")).toBe("");
    expect(await readFile(join(t.dir, DB), "utf8")).toBe("kind: StatefulSet\nnode: node-b\n");
    for (const p of ["HEAD.lock", "index.lock", "refs/heads/main.lock", "failover-api/lock"]) {
      await expect(stat(join(t.dir, ".git", p)), p).rejects.toMatchObject({ code: "ENOENT" });
    }
    expect(await readdir(join(t.dir, ".git", "failover-api", "tmp"))).toEqual([]);
    expect(warnings.join("\n")).toMatch(/recovered after a failover-api process \d+ died/);
  });

  it("recovers on the first read too, and leaves a person's own edit alone", async () => {
    const mine = "kind: StatefulSet\nnode: my-own-edit\n";
    const { t } = await killedMidCommit({ personEdit: mine });
    const warnings: string[] = [];
    const repo = new LocalGitRepo({ dir: t.dir, onWarning: (m) => warnings.push(m) });
    await repo.read("main", [DB]);
    expect(await readFile(join(t.dir, DB), "utf8")).toBe(mine);
    await expect(stat(join(t.dir, ".git", "index.lock"))).rejects.toMatchObject({
      code: "ENOENT",
    });
    expect(warnings.join("\n")).toMatch(/left local edits alone in apps\/db\/statefulset\.yaml/);
  });

  it.each([
    ["a prefix of the file git was writing", "kind: StatefulSet\nnode: no"],
    ["no file (git unlinked it and had not written the new one)", undefined],
  ])(
    "a work-tree file caught mid-write (%s) is git's, not a person's: brought to HEAD",
    async (_name, partial) => {
      const { t } = await killedMidCommit(partial === undefined ? {} : { personEdit: partial });
      if (partial === undefined) await rm(join(t.dir, DB));
      const warnings: string[] = [];
      const repo = new LocalGitRepo({ dir: t.dir, onWarning: (m) => warnings.push(m) });
      await repo.read("main", [DB]);
      expect(await readFile(join(t.dir, DB), "utf8")).toBe("kind: StatefulSet\nnode: node-b\n");
      expect(git(t.dir, "diff", "--cached", "HEAD", "--", DB)).toBe("");
      expect(git(t.dir, "diff", "--", DB)).toBe("");
      expect(warnings.join("\n")).not.toMatch(/left local edits alone/);
    },
  );

  /** What the kernel says of a pid: state and start time (ticks since boot), from /proc. */
  const proc = (pid: number) => {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", startTicks: Number(fields[19]) };
  };
  const bootId = () => readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  const hasProc = existsSync("/proc/self/stat");
  /** A live process that is not the lock's owner; resolves with the pid it printed. */
  const otherProcess = (script: string) =>
    new Promise<number>((resolve, reject) => {
      const child = spawn("sh", ["-c", script], { stdio: ["ignore", "pipe", "ignore"] });
      children.push(child);
      child.once("error", reject);
      child.stdout.setEncoding("utf8").once("data", (line: string) => resolve(Number(line)));
    });
  const staged = (dir: string) => git(dir, "diff", "--cached", "--name-only", "HEAD").trim();
  const lockFile = (dir: string) => join(dir, ".git", "failover-api", "lock");

  it.runIf(hasProc)(
    "takes over a lock whose pid now belongs to another live process (its start time differs)",
    async () => {
      // The dead owner's pid, reused by a long-lived process (here: our parent, which started
      // before the lock was taken, so only the recorded start time tells them apart).
      const pid = process.ppid;
      const owner = { pid, boot: bootId(), startTicks: proc(pid).startTicks + 1 };
      const { t } = await killedMidCommit({ owner });
      expect(staged(t.dir)).toBe(DB); // the reversed failover
      const warnings: string[] = [];
      const repo = new LocalGitRepo({
        dir: t.dir,
        lockWaitMs: 200,
        onWarning: (m) => warnings.push(m),
      });
      await repo.read("main", [DB]);
      expect(staged(t.dir)).toBe("");
      expect(git(t.dir, "status", "--porcelain", "--untracked-files=all")).toBe("");
      expect(existsSync(lockFile(t.dir))).toBe(false);
      expect(warnings.join("\n")).toMatch(
        new RegExp(`recovered after a failover-api process ${pid} died`),
      );
    },
  );

  it.runIf(hasProc)(
    "takes over a lock without a start time whose pid belongs to a process started after it",
    async () => {
      const pid = await otherProcess("echo $$; exec sleep 60");
      const { t } = await killedMidCommit({ owner: { pid } }); // taken 60 s ago
      const repo = new LocalGitRepo({ dir: t.dir, lockWaitMs: 200 });
      await repo.read("main", [DB]);
      expect(staged(t.dir)).toBe("");
      expect(existsSync(lockFile(t.dir))).toBe(false);
    },
  );

  it.runIf(hasProc)("takes over a lock whose owner is a zombie", async () => {
    // `sleep 60` (the shell, exec'd) never waits for its child: once that child's `sleep 1`
    // ends it stays a zombie. Waited for on the kernel's state, bounded by work, not a clock.
    const pid = await otherProcess("sleep 1 & echo $!; exec sleep 60");
    for (let i = 0; i < 6000 && proc(pid).state !== "Z"; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(proc(pid).state).toBe("Z");
    const { t } = await killedMidCommit({
      owner: { pid, boot: bootId(), startTicks: proc(pid).startTicks },
    });
    const repo = new LocalGitRepo({ dir: t.dir, lockWaitMs: 200 });
    await repo.read("main", [DB]);
    expect(staged(t.dir)).toBe("");
    expect(existsSync(lockFile(t.dir))).toBe(false);
  });

  it("fails closed while it cannot recover, and the next request tries again", async () => {
    // A live owner that does not let go (a stuck process, or a pid that looks alive).
    const pid = process.ppid;
    const live = hasProc ? { boot: bootId(), startTicks: proc(pid).startTicks } : {};
    const { t, landed } = await killedMidCommit({ owner: { pid, ...live } });
    const repo = new LocalGitRepo({ dir: t.dir, lockWaitMs: 100 });
    const error = await repo.read("main", [DB]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailoverError);
    expect(error).toMatchObject({ code: "upstream", details: { pid } });
    expect((error as Error).message).toContain(lockFile(t.dir));
    expect(staged(t.dir)).toBe(DB); // nothing answered over the stale checkout
    // The owner turns out dead (its pid is ours now): the next read recovers, not a cached failure.
    const record = JSON.parse(await readFile(lockFile(t.dir), "utf8")) as Record<string, unknown>;
    await writeFile(lockFile(t.dir), JSON.stringify({ ...record, pid: process.pid }));
    const snapshot = await repo.read("main", [DB]);
    expect(snapshot.head).toBe(landed);
    expect(staged(t.dir)).toBe("");
    expect(existsSync(lockFile(t.dir))).toBe(false);
  });

  it("fails closed when the checkout cannot be reconciled, keeping the journal", async () => {
    const { t } = await killedMidCommit();
    // index.lock newer than this process: a person's live git, never ours to remove.
    const indexLock = join(t.dir, ".git", "index.lock");
    const now = new Date();
    await utimes(indexLock, now, now);
    const repo = new LocalGitRepo({ dir: t.dir });
    const error = await repo.read("main", [DB]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "upstream" });
    expect((error as Error).message).toContain(lockFile(t.dir));
    expect((error as Error).message).toContain(DB);
    expect(existsSync(lockFile(t.dir))).toBe(true);
    expect(staged(t.dir)).toBe(DB);
    await rm(indexLock); // that git finished
    await repo.read("main", [DB]);
    expect(staged(t.dir)).toBe("");
    expect(git(t.dir, "status", "--porcelain", "--untracked-files=all")).toBe("");
    expect(existsSync(lockFile(t.dir))).toBe(false);
  });

  it("keeps a git lock file that is newer than this process (someone's live git)", async () => {
    const t = await makeTempRepo(FILES);
    temps.push(t);
    await writeFile(join(t.dir, ".git", "index.lock"), "");
    const warnings: string[] = [];
    const repo = new LocalGitRepo({ dir: t.dir, onWarning: (m) => warnings.push(m) });
    const { sha } = await repo.commit({
      branch: "main",
      expectedHead: t.head,
      message: "m",
      changes: [{ path: DB, text: "node: node-b\n" }],
    });
    expect(git(t.dir, "rev-parse", "main").trim()).toBe(sha);
    expect((await stat(join(t.dir, ".git", "index.lock"))).isFile()).toBe(true);
    expect(warnings).toHaveLength(1); // the work tree step could not run
  });

  it("waits for a live owner's lock, bounded, and says who holds it", async () => {
    const t = await makeTempRepo(FILES);
    temps.push(t);
    await mkdir(join(t.dir, ".git", "failover-api"), { recursive: true });
    const alive = { pid: process.ppid, process: randomUUID(), started: 0, at: Date.now() };
    await writeFile(join(t.dir, ".git", "failover-api", "lock"), JSON.stringify(alive));
    const repo = new LocalGitRepo({ dir: t.dir, lockWaitMs: 100 });
    await expect(
      repo.commit({
        branch: "main",
        expectedHead: t.head,
        message: "m",
        changes: [{ path: DB, text: "node: node-b\n" }],
      }),
    ).rejects.toMatchObject({ code: "upstream", details: { pid: process.ppid } });
    expect(git(t.dir, "rev-parse", "main").trim()).toBe(t.head);
  });
});
