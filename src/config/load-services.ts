import { readFile } from "node:fs/promises";
import { FailoverError } from "../domain/errors.js";
import { parseServicesConfig, type ServicesConfig } from "./services-config.js";

export async function loadServicesConfig(path: string): Promise<ServicesConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new FailoverError(
      "config_invalid",
      `cannot read services config ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}; set FAILOVER_CONFIG to the services.yaml file`,
      { cause: error },
    );
  }
  return parseServicesConfig(text, path);
}
