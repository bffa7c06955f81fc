import { execFile } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * The other end of test/helpers/spawn-proxy.ts: a small process that starts git for a test
 * worker. One JSON line per request on stdin ({ id, file, args, env, input, timeout,
 * maxBuffer }, bytes in base64), one JSON line per answer on stdout. Ends when its stdin
 * does (the worker exited), after the processes it runs have answered.
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

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const request = JSON.parse(line) as Request;
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
  if (pending === 0) process.exit(0);
});
