import { readFile } from "node:fs/promises";
import { FailoverError } from "../domain/errors.js";
import { parseServicesConfig, type ServicesConfig } from "./services-config.js";

/** The services file's text; a missing or unreadable file is a config error saying what to set. */
export async function readServicesText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new FailoverError(
      "config_invalid",
      `cannot read services config ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}; set FAILOVER_CONFIG to the services.yaml file`,
      { cause: error },
    );
  }
}

export async function loadServicesConfig(path: string): Promise<ServicesConfig> {
  return parseServicesConfig(await readServicesText(path), path);
}
