import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { FailoverError } from "../../domain/errors.js";
import { GitCommandError } from "./git-cli.js";

/** One answer of `git cat-file --batch`: the object, or null ("missing", "ambiguous"). */
export interface BatchObject {
  readonly oid: string;
  readonly type: string;
  readonly content: Buffer;
}

interface Pending {
  readonly count: number;
  readonly results: (BatchObject | null)[];
  readonly resolve: (results: (BatchObject | null)[]) => void;
  readonly reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A long-lived `git cat-file --batch`: reads cost a pipe round trip instead of a process.
 * Requests are answered in order; one that takes longer than `timeoutMs` kills the process
 * (the next request starts a new one), as does any failure. Git resolves each name afresh
 * (loose refs are read from disk per lookup, packs rescanned on a miss), so commits made by
 * other processes are seen at once. Idle, it does not keep Node's event loop alive.
 */
export class CatFileBatch {
  readonly #start: () => ChildProcessWithoutNullStreams;
  readonly #timeoutMs: number;
  #child: ChildProcessWithoutNullStreams | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  readonly #queue: Pending[] = [];

  constructor(start: () => ChildProcessWithoutNullStreams, timeoutMs: number) {
    this.#start = start;
    this.#timeoutMs = timeoutMs;
  }

  /** The objects `names` (`<rev>:<path>`, `refs/heads/x`, an oid) name, in order. */
  get(names: readonly string[]): Promise<(BatchObject | null)[]> {
    if (names.length === 0) return Promise.resolve([]);
    for (const name of names) {
      if (/[\n\r\0]/.test(name)) {
        return Promise.reject(new FailoverError("invalid_input", "object name with a newline"));
      }
    }
    const child = this.#ensure();
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        count: names.length,
        results: [],
        resolve,
        reject,
        timer: undefined,
      };
      pending.timer = setTimeout(() => {
        this.#fail(
          child,
          new FailoverError(
            "upstream",
            `git cat-file --batch did not answer within ${this.#timeoutMs} ms`,
          ),
        );
      }, this.#timeoutMs);
      this.#queue.push(pending);
      this.#ref(child, true);
      child.stdin.write(`${names.join("\n")}\n`);
    });
  }

  /** Ends the process (tests, shutdown); a later request starts another. */
  close(): void {
    const child = this.#child;
    if (child === undefined) return;
    this.#fail(child, new FailoverError("upstream", "git cat-file --batch was closed"));
  }

  #ensure(): ChildProcessWithoutNullStreams {
    if (this.#child !== undefined) return this.#child;
    const child = this.#start();
    this.#child = child;
    this.#buffer = Buffer.alloc(0);
    child.stdout.on("data", (chunk: Buffer) => {
      if (this.#child !== child) return;
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      try {
        this.#drain();
      } catch (error) {
        this.#fail(child, error);
      }
    });
    const stderr: Buffer[] = [];
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < 16) stderr.push(chunk);
    });
    child.stdin.on("error", () => {
      // The exit below reports it.
    });
    child.on("error", (error) => this.#fail(child, error));
    // "close": after stderr is read to its end, so the error says what git said.
    child.on("close", (code) => {
      const cause = new GitCommandError(
        ["cat-file", "--batch"],
        code ?? undefined,
        Buffer.concat(stderr).toString("utf8"),
      );
      this.#fail(
        child,
        new FailoverError("upstream", `git cat-file failed: ${cause.message}`, {
          cause,
          details: { command: "cat-file", exitCode: code ?? undefined },
        }),
      );
    });
    this.#ref(child, false);
    return child;
  }

  /** Keeps the event loop alive only while an answer is awaited. */
  #ref(child: ChildProcessWithoutNullStreams, on: boolean): void {
    for (const handle of [child, child.stdout, child.stderr, child.stdin] as {
      ref?: () => void;
      unref?: () => void;
    }[]) {
      if (on) handle.ref?.();
      else handle.unref?.();
    }
  }

  #drain(): void {
    for (;;) {
      const pending = this.#queue[0];
      if (pending === undefined) return;
      const eol = this.#buffer.indexOf(0x0a);
      if (eol < 0) return;
      const header = this.#buffer.subarray(0, eol).toString("utf8");
      const match = /^([0-9a-f]{40,64}) (\S+) (\d+)$/.exec(header);
      if (match === null) {
        // "<name> missing" / "<name> ambiguous": no content follows.
        this.#buffer = this.#buffer.subarray(eol + 1);
        pending.results.push(null);
      } else {
        const size = Number(match[3]);
        if (this.#buffer.length < eol + 1 + size + 1) return; // the rest is still coming
        const content = Buffer.from(this.#buffer.subarray(eol + 1, eol + 1 + size));
        this.#buffer = this.#buffer.subarray(eol + 1 + size + 1);
        pending.results.push({ oid: match[1] ?? "", type: match[2] ?? "", content });
      }
      if (pending.results.length === pending.count) {
        this.#queue.shift();
        clearTimeout(pending.timer);
        pending.resolve(pending.results);
        if (this.#queue.length === 0 && this.#child !== undefined) this.#ref(this.#child, false);
      }
    }
  }

  #fail(child: ChildProcessWithoutNullStreams, error: unknown): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    child.kill("SIGKILL");
    for (const pending of this.#queue.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }
}
