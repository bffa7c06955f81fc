import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { copyTree } from "./copy-tree.js";

describe("copyTree", () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
  });

  it("copies nested files with their modes, and links as links, into a new or existing folder", () => {
    const root = mkdtempSync(join(tmpdir(), "copy-tree-"));
    roots.push(root);
    const from = join(root, "from");
    mkdirSync(join(from, "a", "b"), { recursive: true });
    writeFileSync(join(from, "a", "b", "deep.yaml"), "kind: x\n");
    writeFileSync(join(from, "run.sh"), "#!/bin/sh\n");
    chmodSync(join(from, "run.sh"), 0o755);
    symlinkSync("a/b/deep.yaml", join(from, "link.yaml"));
    const to = join(root, "to", "repo");
    mkdirSync(to, { recursive: true });
    writeFileSync(join(to, "run.sh"), "old\n");
    copyTree(from, to);
    expect(readFileSync(join(to, "a", "b", "deep.yaml"), "utf8")).toBe("kind: x\n");
    expect(readFileSync(join(to, "run.sh"), "utf8")).toBe("#!/bin/sh\n");
    expect(lstatSync(join(to, "run.sh")).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(to, "link.yaml")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(to, "link.yaml"))).toBe("a/b/deep.yaml");
  });
});
