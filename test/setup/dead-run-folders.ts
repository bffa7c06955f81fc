import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

/**
 * A run's folders are named after its process (`<prefix><pid>...`); a run that was killed
 * before its teardown leaves its folder behind. The next run removes the folders of processes
 * that are gone, and never another live run's.
 */
export function removeDeadRunFolders(base: string, prefix: string): void {
  if (!existsSync(base)) return;
  for (const entry of readdirSync(base)) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(/^\d+/.exec(entry.slice(prefix.length))?.[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)) {
      rmSync(join(base, entry), { recursive: true, force: true });
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
