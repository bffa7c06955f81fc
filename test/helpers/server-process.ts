import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { cliArgs } from "./cli-process.js";
import { TEST_BOUNDS } from "./test-bounds.js";

/** The repository root: `node --import tsx src/cli.ts` runs from here. */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface ServerProcessOptions {
  /** host:port of the fake GitHub (GHE_HOST; GHE_PROTOCOL is http). Ignored with localRepo. */
  readonly gheHost?: string;
  /** Local mode instead: GITOPS_REPO_PATH, no GitHub variables at all. */
  readonly localRepo?: string;
  /**
   * Its own process group: `kill` signals the whole group (the server and the git processes
   * it runs), as a container runtime killing a pod does.
   */
  readonly processGroup?: boolean;
  /** FAILOVER_CONFIG: the services file. */
  readonly configPath: string;
  /** Anything else for the environment (FAILOVER_MAX_ATTEMPTS, GITHUB_RETRIES, ...). */
  readonly env?: Readonly<Record<string, string>>;
  /** Where the ports to try come from (default freePort; a test hands out a taken one). */
  readonly ports?: () => Promise<number>;
  /** Bound on the wait for GET /api/health (default 100 s: under the suite's 120 s hooks). */
  readonly readyTimeoutMs?: number;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
  /** Sends a signal (default SIGTERM) and waits for the exit; a no-op once exited. */
  kill(signal?: NodeJS.Signals): Promise<Exit>;
  /** What the process wrote so far. */
  stdout(): string;
  stderr(): string;
}

/** A port that was free a moment ago: listen on 0 on loopback, read it, close. */
/**
 * Ports handed out in this process, never handed out twice (on globalThis: vitest evaluates
 * this module again for each file a worker runs). A port is free when asked for, but its
 * server binds it a second later: meanwhile the kernel may give the same port to another
 * lane's freePort, one server then fails to bind, and both lanes' health checks reach the
 * other one: a lane would then test another lane's repository.
 */
const GIVEN = Symbol.for("failover-api.test.given-ports");

export async function freePort(): Promise<number> {
  const store = globalThis as { [GIVEN]?: Set<number> };
  store[GIVEN] ??= new Set();
  const given = store[GIVEN];
  for (;;) {
    const port = await anyFreePort();
    if (given.has(port)) continue;
    given.add(port);
    return port;
  }
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}

/**
 * The real server as a separate OS process: `node --import tsx src/cli.ts serve` in GitHub
 * mode against a fake GitHub, on loopback. Resolves once `GET /api/health` answers 200;
 * rejects (and kills the process) when it exits first or the bounded wait runs out.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  // freePort's port is free when asked for, not when the child binds it: any process on the
  // machine (another worker's server, an outgoing connection) may take it in between. The
  // child then exits with EADDRINUSE before answering: start it again on another port.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, await (options.ports ?? freePort)());
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

const PORT_ATTEMPTS = 5;

/** The child exited because its port was bound by something else first. */
class PortTaken extends Error {}

/** Whether a server's output says it could not bind its port. */
export function portWasTaken(output: string): boolean {
  return output.includes("EADDRINUSE");
}

async function startOnce(options: ServerProcessOptions, port: number): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...cliArgs(), "serve"], {
    cwd: ROOT,
    detached: options.processGroup === true,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...(process.env.TMPDIR === undefined ? {} : { TMPDIR: process.env.TMPDIR }),
      ...(options.localRepo === undefined
        ? {
            GITOPS_REPOSITORY: "acme/gitops",
            GITHUB_TOKEN: "x",
            GHE_HOST: options.gheHost ?? "",
            GHE_PROTOCOL: "http",
          }
        : { GITOPS_REPO_PATH: options.localRepo }),
      FAILOVER_CONFIG: options.configPath,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      // The proofs measure what lands, not how fast: 100 requests at once against one fake
      // GitHub on a busy 2-core machine must not end in 504s. Tests of the bounds set them.
      ...TEST_BOUNDS,
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: string[] = [];
  const err: string[] = [];
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => out.push(chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => err.push(chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", () => resolve({ code: null, signal: null }));
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });

  const url = `http://127.0.0.1:${port}`;
  const handle: ServerProcess = {
    url,
    port,
    pid: child.pid ?? -1,
    exited,
    kill: (signal = "SIGTERM") => {
      if (!done) sendSignal(child, signal, options.processGroup === true);
      return exited;
    },
    stdout: () => out.join(""),
    stderr: () => err.join(""),
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 100_000);
  while (Date.now() < deadline) {
    if (done) {
      const exit = await exited;
      const output = `${handle.stderr()}${handle.stdout()}`;
      if (portWasTaken(output)) throw new PortTaken(`port ${port} was taken:\n${output}`);
      throw new Error(
        `server process exited before answering (code ${exit.code}, signal ${exit.signal}):\n${handle.stderr()}${handle.stdout()}`,
      );
    }
    if (await healthy(url)) return handle;
    await sleep(100);
  }
  await handle.kill("SIGKILL");
  throw new Error(`server process did not answer /api/health in time:\n${handle.stderr()}`);
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function sendSignal(child: ChildProcess, signal: NodeJS.Signals, group = false): void {
  try {
    if (group && child.pid !== undefined) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
