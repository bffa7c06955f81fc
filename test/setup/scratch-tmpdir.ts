import { mkdtempSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeDeadRunFolders } from "./dead-run-folders.js";

/**
 * Vitest globalSetup: the tests' temporary files (hundreds of Git repositories, fixture copies,
 * server state) go to a folder of this run in memory, /dev/shm, when it is a tmpfs with room
 * to spare. On the 2-core virtual machines this project is tested on, /tmp is ext4 on a
 * virtual disk, and the kernel's journaling and writeback of those short-lived files cost a
 * run of `npm test` about 20 s of system CPU: the machine's system time (/proc/stat) was 68 s
 * of 192 s and the run 103 s with /tmp, 45 s of 166 s and 89 s with the folder in memory.
 *
 * The workers, and every process they start, inherit TMPDIR from this process (set before
 * vitest starts them), so node's os.tmpdir() and git's temporary files both land there. A
 * TMPDIR the user set is left alone; so is a /dev/shm that is missing, not a tmpfs, or small
 * (a container's default is 64 MB). The folder is removed at the end, and a killed run's
 * folder by the next run.
 */
const SHM = "/dev/shm";
const TMPFS_MAGIC = 0x01021994;
/** The suite's files peak at about 10 MB (sampled each second); 1 GiB free is room to spare. */
const ROOM = 1024 ** 3;
const PREFIX = "failover-api-test-";

export default function setup(): () => void {
  if (process.env.TMPDIR !== undefined && process.env.TMPDIR !== "") return () => {};
  const base = inMemory() ? SHM : tmpdir();
  removeDeadRunFolders(base, PREFIX);
  const dir = mkdtempSync(join(base, `${PREFIX}${process.pid}-`));
  process.env.TMPDIR = dir;
  return () => {
    rmSync(dir, { recursive: true, force: true });
    delete process.env.TMPDIR;
  };
}

function inMemory(): boolean {
  try {
    const fs = statfsSync(SHM);
    return fs.type === TMPFS_MAGIC && fs.bavail * fs.bsize >= ROOM;
  } catch {
    return false;
  }
}
