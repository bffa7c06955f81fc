import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { FailoverError } from "../../domain/errors.js";

/** Applied to every git invocation so file bytes round-trip exactly and output is parseable. */
const BASE_CONFIG = [
  "-c",
  "core.autocrlf=false",
  "-c",
  "core.safecrlf=false",
  "-c",
  "core.quotePath=false",
  "-c",
  "i18n.commitEncoding=UTF-8",
  "-c",
  "i18n.logOutputEncoding=UTF-8",
  "-c",
  // Lets concurrent ref updates wait briefly for each other's lock instead of failing at once.
  "core.filesRefLockTimeout=2000",
] as const;

export const DEFAULT_GIT_TIMEOUT_MS = 30_000;
const MAX_BUFFER = 512 * 1024 * 1024;

/** A failed git process: kept as the `cause` of the FailoverError callers see. */
export class GitCommandError extends Error {
  readonly args: readonly string[];
  /** Exit status, or undefined when git could not be started or was killed. */
  readonly exitCode: number | undefined;
  readonly stderr: string;

  constructor(
    args: readonly string[],
    exitCode: number | undefined,
    stderr: string,
    options: { cause?: unknown } = {},
  ) {
    const detail = stderr.trim() === "" ? "" : `: ${stderr.trim()}`;
    const status = exitCode === undefined ? "could not run" : `exited with ${exitCode}`;
    super(
      `git ${args.join(" ")} ${status}${detail}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "GitCommandError";
    this.args = args;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

export interface GitRunOptions {
  /** Written to git's stdin (stdin is always closed, so git never waits for input). */
  readonly input?: string | Buffer;
  /** Extra environment variables (e.g. GIT_INDEX_FILE). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface GitRunnerOptions {
  readonly dir: string;
  readonly authorName: string;
  readonly authorEmail: string;
  readonly timeoutMs: number;
  /** Told of every git process started (its arguments): how tests count them. */
  readonly onSpawn?: (args: readonly string[]) => void;
}

/** Runs the git CLI in one repository: argument arrays, no shell, no prompts, fixed identity. */
export class GitRunner {
  readonly #options: GitRunnerOptions;
  readonly #baseEnv: Record<string, string>;

  constructor(options: GitRunnerOptions) {
    this.#options = options;
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      // Inherited GIT_DIR / GIT_INDEX_FILE / GIT_WORK_TREE (e.g. from a hook) would redirect us.
      if (value !== undefined && !key.startsWith("GIT_")) env[key] = value;
    }
    Object.assign(env, {
      GIT_TERMINAL_PROMPT: "0",
      // Paths are file names, never glob patterns.
      GIT_LITERAL_PATHSPECS: "1",
      GIT_AUTHOR_NAME: options.authorName,
      GIT_AUTHOR_EMAIL: options.authorEmail,
      GIT_COMMITTER_NAME: options.authorName,
      GIT_COMMITTER_EMAIL: options.authorEmail,
      LC_ALL: "C",
      LANGUAGE: "C",
    });
    this.#baseEnv = env;
  }

  /** stdout as bytes; rejects with FailoverError("upstream") whose cause is a GitCommandError. */
  run(args: readonly string[], options: GitRunOptions = {}): Promise<Buffer> {
    const fullArgs = ["-C", this.#options.dir, ...BASE_CONFIG, ...args];
    const env = options.env === undefined ? this.#baseEnv : { ...this.#baseEnv, ...options.env };
    this.#options.onSpawn?.(args);
    return new Promise<Buffer>((resolvePromise, reject) => {
      const child = execFile(
        "git",
        fullArgs,
        {
          encoding: "buffer",
          env,
          timeout: this.#options.timeoutMs,
          killSignal: "SIGKILL",
          maxBuffer: MAX_BUFFER,
          windowsHide: true,
        },
        (error, stdout, stderr) => {
          if (error === null) {
            resolvePromise(stdout);
            return;
          }
          const code = (error as NodeJS.ErrnoException & { code?: unknown }).code;
          const exitCode = typeof code === "number" ? code : undefined;
          let stderrText = stderr.toString("utf8");
          if ((error as { killed?: boolean }).killed === true) {
            stderrText = `${stderrText}\n(killed after ${this.#options.timeoutMs} ms)`.trim();
          } else if (typeof code === "string") {
            stderrText = `${stderrText}\n${error.message}`.trim();
          }
          const cause = new GitCommandError(args, exitCode, stderrText, { cause: error });
          reject(
            new FailoverError("upstream", `git ${args[0] ?? ""} failed: ${cause.message}`, {
              cause,
              details: { command: args[0], exitCode },
            }),
          );
        },
      );
      child.stdin?.on("error", () => {
        // git may exit before reading all of stdin; the exit status reports the real problem.
      });
      child.stdin?.end(options.input ?? "");
    });
  }

  /** A long-lived git process with piped stdio (e.g. `cat-file --batch`); the caller owns it. */
  start(args: readonly string[]): ChildProcessWithoutNullStreams {
    this.#options.onSpawn?.(args);
    return spawn("git", ["-C", this.#options.dir, ...BASE_CONFIG, ...args], {
      env: this.#baseEnv,
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
  }

  async text(args: readonly string[], options: GitRunOptions = {}): Promise<string> {
    return (await this.run(args, options)).toString("utf8");
  }
}

/** The GitCommandError behind a FailoverError from GitRunner.run, if that is what it is. */
export function gitFailure(error: unknown): GitCommandError | undefined {
  if (error instanceof FailoverError && error.cause instanceof GitCommandError) return error.cause;
  return undefined;
}
