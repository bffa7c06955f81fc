import { open } from "node:fs/promises";
import { FailoverError } from "../domain/errors.js";
import { MAX_CONFIG_BYTES, parseServicesConfig, type ServicesConfig } from "./services-config.js";

function cannotRead(path: string, error: unknown): FailoverError {
  return new FailoverError(
    "config_invalid",
    `cannot read services config ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}; set FAILOVER_CONFIG to the services.yaml file`,
    { cause: error },
  );
}

function tooLarge(path: string, size: string): FailoverError {
  return new FailoverError(
    "config_invalid",
    `${path}: ${size}, larger than ${MAX_CONFIG_BYTES} bytes; not read`,
  );
}

/**
 * The services file's text; a missing or unreadable file is a config error saying what to
 * set. The size is checked on the open file before anything is read, and the read itself
 * stops one byte past the cap, so a huge (or growing) file costs no memory.
 */
export async function readServicesText(path: string): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw cannotRead(path, error);
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_CONFIG_BYTES) throw tooLarge(path, `${size} bytes`);
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > MAX_CONFIG_BYTES) throw tooLarge(path, "it grew while being read");
    return buffer.subarray(0, filled).toString("utf8");
  } catch (error) {
    throw error instanceof FailoverError ? error : cannotRead(path, error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

export async function loadServicesConfig(path: string): Promise<ServicesConfig> {
  return parseServicesConfig(await readServicesText(path), path);
}
