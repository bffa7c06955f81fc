import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Debian's chromium (CHROMIUM_PATH, /usr/bin/chromium, or on PATH); undefined when none. */
export function findChromium(): string | undefined {
  const candidates = [
    process.env.CHROMIUM_PATH,
    "/usr/bin/chromium",
    ...(process.env.PATH ?? "")
      .split(delimiter)
      .flatMap((dir) => ["chromium", "chromium-browser"].map((name) => join(dir, name))),
  ];
  return candidates.find((path) => {
    if (path === undefined || path === "") return false;
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
