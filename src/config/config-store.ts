import { createHash } from "node:crypto";
import { type FSWatcher, watch } from "node:fs";
import { lstat, readlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Logger } from "pino";
import { FailoverError } from "../domain/errors.js";
import { readServicesText } from "./load-services.js";
import { parseServicesConfig, type ServicesConfig } from "./services-config.js";

export interface ConfigStatus {
  /** The services.yaml path (FAILOVER_CONFIG). */
  readonly source: string;
  /** Whether a config is loaded (always true once `open` returned). */
  readonly loaded: boolean;
  /** When the config now served was loaded (ISO 8601). */
  readonly loadedAt: string;
  /** Whether the file as it is now is valid (false: the last good config is served). */
  readonly valid: boolean;
  /** Why the latest reload was refused; absent once a reload succeeds again. */
  readonly lastError?: { readonly message: string; readonly at: string };
}

export type ReloadResult = "success" | "failure";

export interface ConfigStoreOptions {
  readonly logger: Logger;
  /** Quiet time after the last file system event before reloading. */
  readonly debounceMs?: number;
  /** Poll interval when the directory cannot be watched (no inotify, watcher limit). */
  readonly pollMs?: number;
  /**
   * Time between the two reads a reload compares (default 250 ms): a file edited in place is
   * taken only once two reads agree, so a half-written one is never served.
   */
  readonly settleMs?: number;
  /** Told about every reload that found changed content (metrics). */
  readonly onReload?: (result: ReloadResult, status: ConfigStatus) => void;
}

/**
 * The services config, reloaded while the process runs. A ConfigMap mounted as a volume is
 * updated by the kubelet swapping the `..data` symlink in the mounted directory, so the
 * DIRECTORY is watched (a watch on the file's inode would keep seeing the old file). Events
 * are debounced; a reload that fails to read or validate keeps the last good config and
 * records the error (readiness, logs, metrics). Nothing here throws after `open`.
 */
export class ConfigStore {
  readonly source: string;
  #config: ServicesConfig;
  #loadedAt: Date;
  /** Digest of the content last tried (good or not): the same content is not tried twice. */
  #digest: string | undefined;
  #lastError: { message: string; at: Date } | undefined;
  #valid = true;
  #stopWatching: (() => void) | undefined;
  #reloading: Promise<ReloadResult | "unchanged"> | undefined;
  #again = false;
  readonly #options: ConfigStoreOptions;

  private constructor(
    source: string,
    text: string,
    config: ServicesConfig,
    options: ConfigStoreOptions,
  ) {
    this.source = source;
    this.#config = config;
    this.#loadedAt = new Date();
    this.#digest = digest(text);
    this.#options = options;
  }

  /** Loads the config once; an unreadable or invalid file fails startup (config_invalid). */
  static async open(source: string, options: ConfigStoreOptions): Promise<ConfigStore> {
    const text = await readServicesText(source);
    const store = new ConfigStore(source, text, parseServicesConfig(text, source), options);
    options.onReload?.("success", store.status());
    return store;
  }

  current(): ServicesConfig {
    return this.#config;
  }

  status(): ConfigStatus {
    return {
      source: this.source,
      loaded: true,
      loadedAt: this.#loadedAt.toISOString(),
      valid: this.#valid,
      ...(this.#lastError === undefined
        ? {}
        : {
            lastError: { message: this.#lastError.message, at: this.#lastError.at.toISOString() },
          }),
    };
  }

  /** Starts watching the config's directory; idempotent. */
  watch(): void {
    if (this.#stopWatching !== undefined) return;
    this.#stopWatching = watchMountedFile(this.source, () => void this.reload(), {
      logger: this.#options.logger,
      ...(this.#options.debounceMs === undefined ? {} : { debounceMs: this.#options.debounceMs }),
      ...(this.#options.pollMs === undefined ? {} : { pollMs: this.#options.pollMs }),
    });
  }

  close(): void {
    this.#stopWatching?.();
    this.#stopWatching = undefined;
  }

  /**
   * Re-reads the file. Unchanged content is not a reload. Concurrent calls coalesce: a call
   * during a reload schedules one more pass afterwards, so the last event always wins.
   */
  reload(): Promise<ReloadResult | "unchanged"> {
    if (this.#reloading !== undefined) {
      this.#again = true;
      return this.#reloading;
    }
    const run = async (): Promise<ReloadResult | "unchanged"> => {
      let result: ReloadResult | "unchanged";
      do {
        this.#again = false;
        result = await this.#reloadOnce();
      } while (this.#again);
      return result;
    };
    this.#reloading = run().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  async #reloadOnce(): Promise<ReloadResult | "unchanged"> {
    const { logger, onReload } = this.#options;
    let text: string;
    try {
      text = await readServicesText(this.source);
      if (digest(text) !== this.#digest) text = await this.#settled(text);
    } catch (error) {
      this.#digest = undefined;
      return this.#fail(error);
    }
    const next = digest(text);
    if (next === this.#digest) return "unchanged";
    let config: ServicesConfig;
    try {
      config = parseServicesConfig(text, this.source);
    } catch (error) {
      this.#digest = next;
      return this.#fail(error);
    }
    const before = [...this.#config.services.keys()].sort();
    this.#config = config;
    this.#digest = next;
    this.#loadedAt = new Date();
    this.#valid = true;
    this.#lastError = undefined;
    const after = [...config.services.keys()].sort();
    logger.info(
      {
        config: this.source,
        services: after,
        added: after.filter((s) => !before.includes(s)),
        removed: before.filter((s) => !after.includes(s)),
      },
      "services config reloaded",
    );
    safely(() => onReload?.("success", this.status()));
    return "success";
  }

  /**
   * `first`, once a second read some time later sees the same bytes (up to a few tries); a
   * file still being written is refused, and the last good config stays. A kubelet volume
   * (`services.yaml -> ..data/services.yaml`, `..data` swapped atomically to a directory
   * that is never written again) is taken at once.
   */
  async #settled(first: string): Promise<string> {
    if (await behindAtomicSwap(this.source)) return first;
    const settleMs = this.#options.settleMs ?? 250;
    let text = first;
    for (let attempt = 0; attempt < 4; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      const again = await readServicesText(this.source);
      if (again === text) return text;
      text = again;
    }
    throw new FailoverError(
      "config_invalid",
      `${this.source} kept changing between reads (still being written?); not taken`,
    );
  }

  #fail(error: unknown): ReloadResult {
    const message = error instanceof Error ? error.message : String(error);
    this.#valid = false;
    this.#lastError = { message, at: new Date() };
    this.#options.logger.error(
      { config: this.source, error: message, servedSince: this.#loadedAt.toISOString() },
      "services config reload failed; still serving the last good config",
    );
    safely(() => this.#options.onReload?.("failure", this.status()));
    return "failure";
  }
}

/** Whether `path` is a kubelet projection: a symlink through a `..data` symlink. */
async function behindAtomicSwap(path: string): Promise<boolean> {
  try {
    const target = await readlink(path);
    if (!target.startsWith("..data/")) return false;
    return (await lstat(join(dirname(path), "..data"))).isSymbolicLink();
  } catch {
    return false;
  }
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // an observer's failure must not affect the config
  }
}

export interface WatchOptions {
  readonly logger: Logger;
  readonly debounceMs?: number;
  readonly pollMs?: number;
}

/**
 * Calls `onChange` (debounced) whenever the directory holding `path` changes: a kubelet
 * `..data` symlink swap (ConfigMap, Secret), an editor's rename or an in-place write. Falls
 * back to polling when the directory cannot be watched. Returns a function that stops it.
 */
export function watchMountedFile(
  path: string,
  onChange: () => void,
  options: WatchOptions,
): () => void {
  const debounceMs = options.debounceMs ?? 300;
  const pollMs = options.pollMs ?? 10_000;
  const dir = dirname(path);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let poller: NodeJS.Timeout | undefined;
  let stopped = false;
  const trigger = () => {
    if (stopped) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!stopped) onChange();
    }, debounceMs);
    timer.unref();
  };
  const poll = (reason: string) => {
    if (poller !== undefined || stopped) return;
    options.logger.warn(
      { path, dir, reason, pollMs },
      "cannot watch the directory; polling for changes instead",
    );
    poller = setInterval(onChange, pollMs);
    poller.unref();
  };
  try {
    // Any event counts: the content digest decides whether anything changed.
    watcher = watch(dir, { persistent: false }, trigger);
    watcher.on("error", (error) => {
      watcher?.close();
      watcher = undefined;
      poll(error.message);
    });
  } catch (error) {
    poll(error instanceof Error ? error.message : String(error));
  }
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    if (poller !== undefined) clearInterval(poller);
    watcher?.close();
  };
}
