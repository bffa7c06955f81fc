import { chmod, readFile, rename, writeFile } from "node:fs/promises";
import { parseEnv } from "node:util";

/**
 * Writes `values` into the .env file at `path`, keeping its other variables, in the format
 * Node reads (`process.loadEnvFile`, `node --dotenv`): a value with newlines (the PEM) in
 * double quotes with `\n`, others bare or single-quoted. Mode 0600: it holds secrets.
 */
export async function updateEnvFile(
  path: string,
  values: Readonly<Record<string, string>>,
): Promise<void> {
  let existing: Record<string, string> = {};
  try {
    existing = parseEnv(await readFile(path, "utf8")) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const merged = { ...existing, ...values };
  const text = Object.entries(merged)
    .map(([key, value]) => `${key}=${quote(value)}`)
    .join("\n");
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${text}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

function quote(value: string): string {
  if (/^[\w.:/+=@,-]*$/.test(value)) return value;
  if (value.includes("\n") || value.includes("'")) {
    if (value.includes('"')) throw new Error("cannot write a value with both newlines and quotes");
    return `"${value.replace(/\r?\n/g, "\\n")}"`;
  }
  return `'${value}'`;
}
