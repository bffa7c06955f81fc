import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { createInterface } from "node:readline";
import { PassThrough, Writable } from "node:stream";
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
 * `signal`. So is `spawn("git", args, { env, stdio: ["pipe", "pipe", "pipe"], windowsHide })`,
 * the local adapter's long-lived `cat-file --batch` (routedSpawn below). Only those forms are
 * routed; anything else (another program, no callback, a promisified execFile, other spawn
 * options) runs as before; execFileSync has its own route (run-sync.ts). The tests of the adapter's own
 * process handling run in their own processes without this file (vitest.config.ts).
 */
const PATCHED = Symbol.for("failover-api.test.spawn-proxy");
const server = process.env[SPAWN_PROXY_ENV];
const store = globalThis as Record<symbol, unknown>;

type Callback = (error: Error | null, stdout: Buffer, stderr: Buffer) => void;

type StreamAnswer =
  | { readonly id: number; readonly kind: "stdout" | "stderr"; readonly data: string }
  | {
      readonly id: number;
      readonly kind: "error";
      readonly message: string;
      readonly code: unknown;
    }
  | {
      readonly id: number;
      readonly kind: "exit";
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
    };

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
    spawn: (...args: unknown[]) => ChildProcess;
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
      const parsed = JSON.parse(line) as Answer | StreamAnswer;
      if ("kind" in parsed) {
        streamed.get(parsed.id)?.answer(parsed);
        return;
      }
      const answer = parsed;
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
      for (const proxied of streamed.values()) {
        proxied.answer({ id: 0, kind: "error", message: failure.message, code: null });
      }
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

  const streamed = new Map<number, { answer(message: StreamAnswer): void }>();
  const send = (message: object) => {
    helper ??= start();
    helper.stdin?.write(`${JSON.stringify(message)}\n`);
  };

  /**
   * A long-lived git with piped stdio (the local adapter's `cat-file --batch`), run by the
   * helper: what the caller uses of a ChildProcess (stdin, stdout, stderr, kill, "error",
   * "exit" and "close" after the output has ended), relayed line by line.
   */
  const routedSpawn = (args: string[], env: Record<string, string> | undefined): ChildProcess => {
    const id = nextId++;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stdin = new Writable({
      write(chunk: Buffer, _encoding, done) {
        send({ id, kind: "stdin", data: Buffer.from(chunk).toString("base64") });
        done();
      },
      final(done) {
        send({ id, kind: "end" });
        done();
      },
    });
    const child = Object.assign(new EventEmitter(), {
      stdin,
      stdout,
      stderr,
      stdio: [stdin, stdout, stderr],
      pid: undefined,
      exitCode: null as number | null,
      signalCode: null as string | null,
      killed: false,
      kill(signal: NodeJS.Signals = "SIGTERM") {
        child.killed = true;
        send({ id, kind: "kill", signal });
        return true;
      },
      ref() {},
      unref() {},
    });
    streamed.set(id, {
      answer(message) {
        if (message.kind === "stdout") stdout.write(Buffer.from(message.data, "base64"));
        else if (message.kind === "stderr") stderr.write(Buffer.from(message.data, "base64"));
        else {
          streamed.delete(id);
          const code = message.kind === "exit" ? message.code : null;
          const signal = message.kind === "exit" ? message.signal : null;
          if (message.kind === "error") {
            child.emit("error", Object.assign(new Error(message.message), { code: message.code }));
          } else {
            child.exitCode = code;
            child.signalCode = signal;
            child.emit("exit", code, signal);
          }
          // "close" once both outputs have been read to their end, as node's ChildProcess.
          const ended = [stdout, stderr].map(
            (s) => new Promise<void>((resolve) => s.once("end", () => resolve())),
          );
          for (const s of [stdout, stderr]) {
            s.end();
            if (s.listenerCount("data") === 0) s.resume();
          }
          void Promise.all(ended).then(() => child.emit("close", code, signal));
        }
      },
    });
    send({ id, kind: "spawn", file: "git", args, env: env ?? process.env });
    return child as unknown as ChildProcess;
  };

  const originalSpawn = cp.spawn as (...args: unknown[]) => ChildProcess;
  cp.spawn = function spawnRouted(this: unknown, ...args: unknown[]): ChildProcess {
    const [file, list, options] = args;
    const stdio = (options as { stdio?: unknown } | undefined)?.stdio;
    if (
      file === "git" &&
      Array.isArray(list) &&
      args.length === 3 &&
      Array.isArray(stdio) &&
      stdio.length === 3 &&
      stdio.every((s) => s === "pipe") &&
      Object.keys(options as object).every((k) => ["env", "stdio", "windowsHide"].includes(k))
    ) {
      return routedSpawn(list as string[], (options as { env?: Record<string, string> }).env);
    }
    return originalSpawn.apply(this, args);
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
