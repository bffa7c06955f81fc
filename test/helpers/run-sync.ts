import { execFileSync } from "node:child_process";
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import { SPAWN_PROXY_ENV } from "./cli-process.js";

/**
 * execFileSync for the tests' own assertions (git, tar), started by the spawn proxy's helper
 * process when the worker has one (see spawn-proxy.ts for why: a test worker holds hundreds of
 * MB, and every process it starts itself costs milliseconds of system time to fork). The
 * tests call these helpers about a thousand times a run.
 *
 * A call must block like execFileSync, and the helper answers over a pipe: a worker thread
 * owns a helper process of its own and relays one request at a time; this thread sleeps in
 * Atomics.wait until the answer is posted, then takes it with receiveMessageOnPort (the
 * pattern of the `synckit` package, in a dozen lines here rather than a dependency for it).
 * Outside a proxied worker (the own-process tests, FAILOVER_TEST_SPAWN_PROXY=off) it is
 * execFileSync itself.
 *
 * Like execFileSync: stdout as bytes; a failure throws an Error whose message holds stderr,
 * with `status`, `signal`, `stdout` and `stderr`.
 */
export function runSync(
  file: string,
  args: readonly string[],
  options: { input?: string | Buffer; maxBuffer?: number } = {},
): Buffer {
  const maxBuffer = options.maxBuffer ?? 64 * 1024 * 1024;
  const bridge = syncBridge();
  if (bridge === undefined) {
    return execFileSync(file, args, { input: options.input, maxBuffer, stdio: "pipe" });
  }
  return bridge.run(file, args, options.input, maxBuffer);
}

interface Answer {
  readonly id: number;
  readonly error: { message: string; code: unknown; killed: boolean; signal: unknown } | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Bridge {
  run(
    file: string,
    args: readonly string[],
    input: string | Buffer | undefined,
    max: number,
  ): Buffer;
}

/** The helper's side: relay a request to the proxy process, post its answer, wake the caller. */
const RELAY = `
const { parentPort, workerData } = require("node:worker_threads");
const { spawn } = require("node:child_process");
const { createInterface } = require("node:readline");
const { server, flag, port } = workerData;
const done = (answer) => {
  port.postMessage(answer);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
};
const child = spawn(process.execPath, [server], { stdio: ["pipe", "pipe", "inherit"] });
let current;
createInterface({ input: child.stdout }).on("line", (line) => {
  current = undefined;
  done(JSON.parse(line));
});
child.once("exit", (code, signal) => {
  const message = "spawn proxy exited (code " + code + ", signal " + signal + ")";
  if (current !== undefined) done({ id: current, error: { message, code: null, killed: false, signal: null }, stdout: "", stderr: "" });
});
parentPort.on("message", (request) => {
  current = request.id;
  child.stdin.write(JSON.stringify(request) + "\\n");
});
`;

const BRIDGE = Symbol.for("failover-api.test.run-sync");
/** A relay that has not answered in this long is broken: fail the call, do not hang the run. */
const WAIT_MS = 300_000;

function syncBridge(): Bridge | undefined {
  const server = process.env[SPAWN_PROXY_ENV];
  if (server === undefined || server === "" || process.env.FAILOVER_TEST_SPAWN_PROXY === "off") {
    return undefined;
  }
  const store = globalThis as { [BRIDGE]?: Bridge };
  store[BRIDGE] ??= makeBridge(server);
  return store[BRIDGE];
}

function makeBridge(server: string): Bridge {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(RELAY, {
    eval: true,
    workerData: { server, flag, port: port2 },
    transferList: [port2 as unknown as MessagePort],
  });
  worker.unref();
  let nextId = 1;
  return {
    run(file, args, input, maxBuffer) {
      const id = nextId++;
      Atomics.store(flag, 0, 0);
      worker.postMessage({
        id,
        file,
        args,
        env: process.env,
        input: Buffer.from(input ?? "").toString("base64"),
        timeout: 0,
        maxBuffer,
      });
      if (Atomics.wait(flag, 0, 0, WAIT_MS) === "timed-out") {
        throw new Error(`runSync: no answer for ${file} ${args.join(" ")} in ${WAIT_MS} ms`);
      }
      const answer = receiveMessageOnPort(port1)?.message as Answer | undefined;
      if (answer?.id !== id) throw new Error(`runSync: answer ${answer?.id} for request ${id}`);
      const stdout = Buffer.from(answer.stdout, "base64");
      const stderr = Buffer.from(answer.stderr, "base64");
      if (answer.error === null) return stdout;
      const status = typeof answer.error.code === "number" ? answer.error.code : null;
      throw Object.assign(
        new Error(`Command failed: ${file} ${args.join(" ")}\n${stderr.toString("utf8")}`),
        { status, signal: answer.error.signal, code: answer.error.code, stdout, stderr },
      );
    },
  };
}
