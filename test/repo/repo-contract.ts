import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FailoverError, StaleHeadError } from "../../src/domain/errors.js";
import type { GitOpsRepo } from "../../src/repo/port.js";

export interface ContractSubject {
  readonly repo: GitOpsRepo;
  /** The branch the seed files are on (and HEAD / the default branch points to). */
  readonly branch: string;
  cleanup(): Promise<void>;
}

export type ContractSetup = (files: Record<string, string>) => Promise<ContractSubject>;

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** ~48 KiB of YAML-ish text: bigger than one pipe buffer, small enough for any fake. */
const LARGE_TEXT = Array.from(
  { length: 1200 },
  (_, i) => `  - name: replica-${String(i).padStart(4, "0")}  # ünïcödé ✓\n`,
).join("");

export const CONTRACT_FILES: Readonly<Record<string, string>> = {
  "README.md": "# GitOps repository\n",
  "apps/db/statefulset.yaml": [
    "apiVersion: apps/v1",
    "kind: StatefulSet",
    "metadata:",
    "  name: db",
    "spec:",
    "  template:",
    "    spec:",
    "      nodeSelector:",
    "        kubernetes.io/hostname: node-a",
    "",
  ].join("\n"),
  "apps/db/pvc.yaml": "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: db-data\n",
  "apps/web/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
  "odd/crlf.yaml": "kind: ConfigMap\r\ndata:\r\n  a: b\r\n",
  "odd/no-newline.yaml": "kind: ConfigMap\ndata:\n  last: line",
  "odd/unicode.yaml": '# Größe — naïve café ✓ 日本語 emoji: 🚀🐘👩‍💻\nname: "ünïcödé"\n',
  "odd/large.yaml": `items:\n${LARGE_TEXT}`,
};

/**
 * The behaviour every GitOpsRepo adapter must have. Uses only the port, so it runs against
 * the local git adapter and against the GitHub adapter over a fake server alike. `setup`
 * must create a fresh repository holding exactly `files` on `branch` for every test.
 */
export function describeRepoContract(name: string, setup: ContractSetup): void {
  describe(`GitOpsRepo contract: ${name}`, () => {
    let subject: ContractSubject | undefined;
    let repo: GitOpsRepo;
    let branch: string;

    beforeEach(async () => {
      subject = await setup({ ...CONTRACT_FILES });
      repo = subject.repo;
      branch = subject.branch;
    });

    afterEach(async () => {
      await subject?.cleanup();
      subject = undefined;
    });

    const headOf = async (): Promise<string> => (await repo.read(branch, [])).head;

    it("has a description", () => {
      expect(typeof repo.description).toBe("string");
      expect(repo.description.length).toBeGreaterThan(0);
    });

    it("defaultBranch returns the branch", async () => {
      expect(await repo.defaultBranch()).toBe(branch);
    });

    it("read returns the texts, null for missing paths, all from the head commit", async () => {
      const snap = await repo.read(branch, [
        "apps/db/statefulset.yaml",
        "apps/db/missing.yaml",
        "README.md",
        "nope/nothing.yaml",
      ]);
      expect(snap.head).toMatch(SHA);
      expect(snap.files.get("apps/db/statefulset.yaml")).toBe(
        CONTRACT_FILES["apps/db/statefulset.yaml"],
      );
      expect(snap.files.get("README.md")).toBe(CONTRACT_FILES["README.md"]);
      expect(snap.files.get("apps/db/missing.yaml")).toBeNull();
      expect(snap.files.has("apps/db/missing.yaml")).toBe(true);
      expect(snap.files.get("nope/nothing.yaml")).toBeNull();
      const [latest] = await repo.history(branch, { limit: 1 });
      expect(latest?.sha).toBe(snap.head);
      const empty = await repo.read(branch, []);
      expect(empty.head).toBe(snap.head);
      expect(empty.files.size).toBe(0);
    });

    it("reads a directory path as null, not as a file", async () => {
      const snap = await repo.read(branch, ["apps/db"]);
      expect(snap.files.get("apps/db")).toBeNull();
    });

    it("round-trips bytes exactly: CRLF, no trailing newline, unicode, emoji, larger files", async () => {
      const odd = ["odd/crlf.yaml", "odd/no-newline.yaml", "odd/unicode.yaml", "odd/large.yaml"];
      const seeded = await repo.read(branch, odd);
      for (const path of odd) expect(seeded.files.get(path)).toBe(CONTRACT_FILES[path]);

      const written: Record<string, string> = {
        "odd/crlf.yaml": "kind: ConfigMap\r\ndata:\r\n  a: c\r\n  mixed: yes\n",
        "odd/no-newline.yaml": "still: no newline at the end",
        "odd/unicode.yaml": '# 変更 — ñ ß ø 🚀🔥 \u00e9 vs e\u0301\ntabs:\t"x"\n',
        "odd/large.yaml": `items:\n${LARGE_TEXT}${LARGE_TEXT}`,
        "odd/trailing-blank-lines.yaml": "a: 1\n\n\n",
      };
      const result = await repo.commit({
        branch,
        expectedHead: seeded.head,
        message: "Round-trip odd bytes",
        changes: Object.entries(written).map(([path, text]) => ({ path, text })),
      });
      const after = await repo.read(branch, Object.keys(written));
      expect(after.head).toBe(result.sha);
      for (const [path, text] of Object.entries(written)) expect(after.files.get(path)).toBe(text);
    });

    it("commits on the expected head; the new head has the new content, other files unchanged", async () => {
      const before = await repo.read(branch, ["apps/db/statefulset.yaml"]);
      const text = (CONTRACT_FILES["apps/db/statefulset.yaml"] ?? "").replace("node-a", "node-b");
      const result = await repo.commit({
        branch,
        expectedHead: before.head,
        message: "Fail over db to node-b",
        changes: [{ path: "apps/db/statefulset.yaml", text }],
      });
      expect(result.sha).toMatch(SHA);
      expect(result.sha).not.toBe(before.head);
      const others = Object.keys(CONTRACT_FILES).filter((p) => p !== "apps/db/statefulset.yaml");
      const after = await repo.read(branch, ["apps/db/statefulset.yaml", ...others]);
      expect(after.head).toBe(result.sha);
      expect(after.files.get("apps/db/statefulset.yaml")).toBe(text);
      for (const path of others) expect(after.files.get(path)).toBe(CONTRACT_FILES[path]);
      const files = await repo.listFiles(branch, "");
      expect(files.sort()).toEqual(Object.keys(CONTRACT_FILES).sort());
    });

    it("puts a multi-file change in exactly one commit", async () => {
      const head = await headOf();
      const result = await repo.commit({
        branch,
        expectedHead: head,
        message: "Move db and web",
        changes: [
          { path: "apps/db/statefulset.yaml", text: "db: moved\n" },
          { path: "apps/web/deployment.yaml", text: "web: moved\n" },
        ],
      });
      const log = await repo.history(branch, { limit: 10 });
      expect(log[0]?.sha).toBe(result.sha);
      expect(log[1]?.sha).toBe(head);
      const dbLog = await repo.history(branch, { path: "apps/db/statefulset.yaml", limit: 10 });
      const webLog = await repo.history(branch, { path: "apps/web/deployment.yaml", limit: 10 });
      expect(dbLog[0]?.sha).toBe(result.sha);
      expect(webLog[0]?.sha).toBe(result.sha);
      expect(dbLog[1]?.sha).toBe(head);
      const snap = await repo.read(branch, [
        "apps/db/statefulset.yaml",
        "apps/web/deployment.yaml",
      ]);
      expect(snap.files.get("apps/db/statefulset.yaml")).toBe("db: moved\n");
      expect(snap.files.get("apps/web/deployment.yaml")).toBe("web: moved\n");
    });

    it("refuses a stale expectedHead with StaleHeadError and writes nothing", async () => {
      const first = await headOf();
      const moved = await repo.commit({
        branch,
        expectedHead: first,
        message: "Someone else's change",
        changes: [{ path: "README.md", text: "# changed by someone else\n" }],
      });
      const attempt = repo.commit({
        branch,
        expectedHead: first,
        message: "Planned on an old head",
        changes: [
          { path: "README.md", text: "# stale write\n" },
          { path: "apps/new/stale.yaml", text: "stale: true\n" },
        ],
      });
      await expect(attempt).rejects.toBeInstanceOf(StaleHeadError);
      await expect(attempt).rejects.toMatchObject({ code: "conflict" });
      const after = await repo.read(branch, ["README.md", "apps/new/stale.yaml"]);
      expect(after.head).toBe(moved.sha);
      expect(after.files.get("README.md")).toBe("# changed by someone else\n");
      expect(after.files.get("apps/new/stale.yaml")).toBeNull();
      const log = await repo.history(branch, { limit: 5 });
      expect(log.map((e) => e.sha).slice(0, 2)).toEqual([moved.sha, first]);
    });

    it("lets exactly one of two concurrent commits from the same head win", async () => {
      const head = await headOf();
      const results = await Promise.allSettled([
        repo.commit({
          branch,
          expectedHead: head,
          message: "Concurrent A",
          changes: [{ path: "apps/db/pvc.yaml", text: "a: 1\n" }],
        }),
        repo.commit({
          branch,
          expectedHead: head,
          message: "Concurrent B",
          changes: [{ path: "apps/web/deployment.yaml", text: "b: 1\n" }],
        }),
      ]);
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(StaleHeadError);
      const winner = (won[0] as PromiseFulfilledResult<{ sha: string }>).value.sha;
      const aWon = results[0]?.status === "fulfilled";
      const snap = await repo.read(branch, ["apps/db/pvc.yaml", "apps/web/deployment.yaml"]);
      expect(snap.head).toBe(winner);
      expect(snap.files.get("apps/db/pvc.yaml")).toBe(
        aWon ? "a: 1\n" : CONTRACT_FILES["apps/db/pvc.yaml"],
      );
      expect(snap.files.get("apps/web/deployment.yaml")).toBe(
        aWon ? CONTRACT_FILES["apps/web/deployment.yaml"] : "b: 1\n",
      );
      const log = await repo.history(branch, { limit: 3 });
      expect(log[0]?.sha).toBe(winner);
      expect(log[1]?.sha).toBe(head);
    });

    it("creates a new file in a new directory", async () => {
      const head = await headOf();
      const result = await repo.commit({
        branch,
        expectedHead: head,
        message: "Add cache",
        changes: [{ path: "apps/cache/overlays/prod/kustomization.yaml", text: "resources: []\n" }],
      });
      const snap = await repo.read(branch, ["apps/cache/overlays/prod/kustomization.yaml"]);
      expect(snap.head).toBe(result.sha);
      expect(snap.files.get("apps/cache/overlays/prod/kustomization.yaml")).toBe("resources: []\n");
      expect(await repo.listFiles(branch, "apps/cache/")).toEqual([
        "apps/cache/overlays/prod/kustomization.yaml",
      ]);
    });

    it("lists files with and without a prefix", async () => {
      const all = await repo.listFiles(branch, "");
      expect([...all].sort()).toEqual(Object.keys(CONTRACT_FILES).sort());
      const db = await repo.listFiles(branch, "apps/db/");
      expect([...db].sort()).toEqual(["apps/db/pvc.yaml", "apps/db/statefulset.yaml"]);
      const apps = await repo.listFiles(branch, "apps/");
      expect(apps).toHaveLength(3);
      expect(await repo.listFiles(branch, "does-not-exist/")).toEqual([]);
    });

    it("returns history newest first, respects the limit and the path filter, keeps messages", async () => {
      const initial = await headOf();
      const messages = [
        "Fail over db to node-b\n\nThe old node is being drained.\n\nFailover-Service: db\nFailover-From: node-a\nFailover-To: node-b",
        "Touch web only",
        "Fail back db to node-a\n\nFailover-Service: db\nFailover-To: node-a",
      ];
      const paths = [
        "apps/db/statefulset.yaml",
        "apps/web/deployment.yaml",
        "apps/db/statefulset.yaml",
      ];
      const shas: string[] = [];
      let head = initial;
      for (const [i, message] of messages.entries()) {
        const result = await repo.commit({
          branch,
          expectedHead: head,
          message,
          changes: [{ path: paths[i] ?? "", text: `revision: ${i}\n` }],
        });
        shas.push(result.sha);
        head = result.sha;
      }

      const all = await repo.history(branch, { limit: 10 });
      expect(all.map((e) => e.sha)).toEqual([shas[2], shas[1], shas[0], initial]);
      expect(all.map((e) => e.message.trimEnd())).toEqual([
        messages[2],
        messages[1],
        messages[0],
        expect.any(String),
      ]);
      for (const entry of all) {
        expect(entry.sha).toMatch(SHA);
        expect(Number.isNaN(Date.parse(entry.date))).toBe(false);
        expect(typeof entry.author).toBe("string");
        expect(entry.author.length).toBeGreaterThan(0);
      }

      const limited = await repo.history(branch, { limit: 2 });
      expect(limited.map((e) => e.sha)).toEqual([shas[2], shas[1]]);

      const db = await repo.history(branch, { path: "apps/db/statefulset.yaml", limit: 10 });
      expect(db.map((e) => e.sha)).toEqual([shas[2], shas[0], initial]);
      const dbOne = await repo.history(branch, { path: "apps/db/statefulset.yaml", limit: 1 });
      expect(dbOne.map((e) => e.sha)).toEqual([shas[2]]);
      expect(dbOne[0]?.message).toContain("Failover-Service: db");
      const web = await repo.history(branch, { path: "apps/web/deployment.yaml", limit: 10 });
      expect(web.map((e) => e.sha)).toEqual([shas[1], initial]);
      expect(await repo.history(branch, { path: "never/existed.yaml", limit: 10 })).toEqual([]);
    });

    it("rejects reads of an unknown branch with not_found", async () => {
      const attempt = repo.read("no-such-branch", ["README.md"]);
      await expect(attempt).rejects.toBeInstanceOf(FailoverError);
      await expect(attempt).rejects.toMatchObject({ code: "not_found" });
    });
  });
}
