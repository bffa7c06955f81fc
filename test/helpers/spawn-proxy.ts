import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { SPAWN_PROXY_ENV } from "./cli-process.js";

/**
 * Vitest setup file: a test worker's `execFile("git", args, options, callback)` calls (the
 * local adapter's GitRunner, the fake GitHub's store) are run by a small helper process
 * (spawn-proxy-server.ts) instead of by the worker itself. Why: starting a process copies
 * the starting process's page tables, and on this kind of virtual machine that costs about
 * 2.5 ms of system time per 100 MB it holds. A worker holds 250-400 MB after a few files,
 * the helper about 45; the suite starts thousands of git processes, and this was a third of
 * its CPU time.
 *
 * The git processes are the same (same arguments, environment, input, timeout with SIGKILL,
 * output limit), and their answers reach the callback as execFile's would: stdout, stderr,
 * and on failure an Error with `code` (the exit status, or ENOENT/...), `killed` and
 * `signal`. Only that form is routed; anything else (another program, no callback, a
 * promisified execFile, execFileSync, spawn) runs as before. The tests of the adapter's own
 * process handling run in their own processes without this file (vitest.config.ts).
 */
const PATCHED = Symbol.for("failover-api.test.spawn-proxy");
const server = process.env[SPAWN_PROXY_ENV];
const store = globalThis as Record<symbol, unknown>;

type Callback = (error: Error | null, stdout: Buffer, stderr: Buffer) => void;

interface Answer {
  readonly id: number;
  readonly error: { message: string; code: unknown; killed: boolean; signal: unknown } | null;
  readonly stdout: string;
  readonly stderr: string;
}

if (server !== undefined && server !== "" && store[PATCHED] === undefined) {
  store[PATCHED] = true;
  const cp = createRequire(import.meta.url)("node:child_process") as Record<string, unknown> & {
    execFile: (...args: unknown[]) => ChildProcess;
  };
  const original = cp.execFile;
  const waiting = new Map<number, Callback>();
  let helper: ChildProcess | undefined;
  let nextId = 1;

  const start = (): ChildProcess => {
    const child = spawn(process.execPath, [server], { stdio: ["pipe", "pipe", "inherit"] });
    child.unref();
    // The pipes must not keep the worker alive either: it exits when its tests are done.
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
    if (child.stdout === null) throw new Error("spawn proxy: no stdout");
    createInterface({ input: child.stdout }).on("line", (line) => {
      const answer = JSON.parse(line) as Answer;
      const callback = waiting.get(answer.id);
      waiting.delete(answer.id);
      const stdout = Buffer.from(answer.stdout, "base64");
      const stderr = Buffer.from(answer.stderr, "base64");
      if (answer.error === null) callback?.(null, stdout, stderr);
      else callback?.(Object.assign(new Error(answer.error.message), answer.error), stdout, stderr);
    });
    child.once("exit", (code, signal) => {
      helper = undefined;
      const failure = new Error(`spawn proxy exited (code ${code}, signal ${signal})`);
      for (const callback of waiting.values()) callback(failure, Buffer.alloc(0), Buffer.alloc(0));
      waiting.clear();
    });
    return child;
  };

  const routed = (
    args: string[],
    options: {
      env?: Record<string, string>;
      timeout?: number;
      maxBuffer?: number;
      encoding?: string;
    },
    callback: Callback,
  ): ChildProcess => {
    const id = nextId++;
    const input: Buffer[] = [];
    const stdin = new Writable({
      write(chunk: Buffer, _encoding, done) {
        input.push(Buffer.from(chunk));
        done();
      },
      final(done) {
        helper ??= start();
        waiting.set(id, callback);
        const request = {
          id,
          file: "git",
          args,
          env: options.env ?? process.env,
          input: Buffer.concat(input).toString("base64"),
          timeout: options.timeout ?? 0,
          maxBuffer: options.maxBuffer ?? 1024 * 1024,
        };
        helper.stdin?.write(`${JSON.stringify(request)}\n`);
        done();
      },
    });
    return Object.assign(new EventEmitter(), { stdin, stdout: null, stderr: null }) as never;
  };

  const execFile = function execFile(this: unknown, ...args: unknown[]): ChildProcess {
    const [file, list, options, callback] = args;
    if (
      file === "git" &&
      Array.isArray(list) &&
      typeof options === "object" &&
      options !== null &&
      (options as { encoding?: unknown }).encoding === "buffer" &&
      typeof callback === "function" &&
      args.length === 4
    ) {
      return routed(list as string[], options as never, callback as Callback);
    }
    return original.apply(this, args);
  };
  // util.promisify(execFile) keeps resolving { stdout, stderr } through the original.
  Object.defineProperty(execFile, promisify.custom, {
    value: (original as unknown as Record<symbol, unknown>)[promisify.custom],
  });
  cp.execFile = execFile;
  syncBuiltinESMExports();
}
