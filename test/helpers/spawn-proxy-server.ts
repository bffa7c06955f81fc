import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * The other end of test/helpers/spawn-proxy.ts: a small process that starts git for a test
 * worker. One JSON line per request on stdin ({ id, file, args, env, input, timeout,
 * maxBuffer }, bytes in base64), one JSON line per answer on stdout. Ends when its stdin
 * does (the worker exited), after the processes it runs have answered.
 *
 * Long-lived processes with piped stdio (spawn, e.g. `git cat-file --batch`) are streams of
 * lines with a `kind`: requests "spawn" (args, env), "stdin" (data), "end", "kill" (signal);
 * answers "stdout"/"stderr" (data), "error" (message, code) and "exit" (code, signal), the
 * last once the process has closed its output.
 */
interface Request {
  readonly id: number;
  readonly file: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  readonly input: string;
  readonly timeout: number;
  readonly maxBuffer: number;
}

let pending = 0;
let closed = false;

interface StreamRequest {
  readonly id: number;
  readonly kind: "spawn" | "stdin" | "end" | "kill";
  readonly file?: string;
  readonly args?: string[];
  readonly env?: Record<string, string>;
  readonly data?: string;
  readonly signal?: NodeJS.Signals;
}

const streams = new Map<number, ChildProcessWithoutNullStreams>();
const send = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

function stream(request: StreamRequest): void {
  if (request.kind !== "spawn") {
    const child = streams.get(request.id);
    if (request.kind === "stdin") child?.stdin.write(Buffer.from(request.data ?? "", "base64"));
    else if (request.kind === "end") child?.stdin.end();
    else child?.kill(request.signal ?? "SIGTERM");
    return;
  }
  pending++;
  const child = spawn(request.file ?? "git", request.args ?? [], {
    env: request.env,
    stdio: ["pipe", "pipe", "pipe"],
    windowsHide: true,
  });
  streams.set(request.id, child);
  const { id } = request;
  child.stdout.on("data", (chunk: Buffer) =>
    send({ id, kind: "stdout", data: chunk.toString("base64") }),
  );
  child.stderr.on("data", (chunk: Buffer) =>
    send({ id, kind: "stderr", data: chunk.toString("base64") }),
  );
  child.stdin.on("error", () => {
    // The exit reports it.
  });
  let done = false;
  const finish = (message: object) => {
    if (done) return;
    done = true;
    streams.delete(id);
    send(message);
    pending--;
    if (closed && pending === 0) process.exit(0);
  };
  // A process that could not start (ENOENT, ...) may never close: its error ends it.
  child.on("error", (error: NodeJS.ErrnoException) =>
    finish({ id, kind: "error", message: error.message, code: error.code ?? null }),
  );
  child.on("close", (code, signal) => finish({ id, kind: "exit", code, signal }));
}

// The worker can exit while a process it started still runs (vitest ends its workers without
// waiting): that answer then has no reader. EPIPE is that, not a failure; the helper goes on
// ending its processes and exits as below.
process.stdout.on("error", () => {});

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const parsed = JSON.parse(line) as Request | StreamRequest;
  if ("kind" in parsed) {
    stream(parsed);
    return;
  }
  const request = parsed;
  pending++;
  const child = execFile(
    request.file,
    request.args,
    {
      encoding: "buffer",
      env: request.env,
      timeout: request.timeout,
      killSignal: "SIGKILL",
      maxBuffer: request.maxBuffer,
      windowsHide: true,
    },
    (error, stdout, stderr) => {
      const failure =
        error === null
          ? null
          : {
              message: error.message,
              code: (error as { code?: unknown }).code ?? null,
              killed: (error as { killed?: boolean }).killed === true,
              signal: (error as { signal?: unknown }).signal ?? null,
            };
      process.stdout.write(
        `${JSON.stringify({
          id: request.id,
          error: failure,
          stdout: Buffer.from(stdout).toString("base64"),
          stderr: Buffer.from(stderr).toString("base64"),
        })}\n`,
      );
      pending--;
      if (closed && pending === 0) process.exit(0);
    },
  );
  child.stdin?.on("error", () => {
    // git may exit before reading all of stdin; its exit status says what went wrong.
  });
  child.stdin?.end(Buffer.from(request.input, "base64"));
});
lines.on("close", () => {
  closed = true;
  // The worker is gone: its long-lived processes get end of input (cat-file then exits).
  for (const child of streams.values()) child.stdin.end();
  if (pending === 0) process.exit(0);
});
