import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { ROOT } from "./render.js";

/**
 * A bubblewrap sandbox shaped like the Deployment's pod: the whole filesystem read-only,
 * an empty in-memory /tmp the only writable place, a fresh /proc and /dev, and uid/gid 1000
 * with no capabilities (a new user namespace).
 *
 * Started by root, bwrap is itself started as the real uid 1000 (`setpriv`), so even
 * outside the namespace the process is not root: files of root are then "others'" files
 * to it, as in the image. That needs the work tree to be readable by uid 1000; when it is
 * not (or unprivileged user namespaces are refused), bwrap runs as the caller and only
 * the namespace's uid is 1000. `mode` says which one ran.
 */
export type SandboxMode = "real uid 1000 (setpriv + bwrap)" | "uid 1000 in a user namespace";

export interface Sandbox {
  readonly mode: SandboxMode;
  /** The full command line: prefix + bwrap + options + `--` + command. */
  command(cwd: string, command: readonly string[], extra?: readonly string[]): string[];
}

const SETPRIV = ["setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups"];

function bwrapOptions(cwd: string): string[] {
  return [
    "--ro-bind",
    "/",
    "/",
    "--tmpfs",
    "/tmp",
    // The work tree, read-only, at its own path: visible even when it lies under /tmp
    // (a CI clone may), which the in-memory /tmp would hide.
    "--ro-bind",
    ROOT,
    ROOT,
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--unshare-user",
    "--uid",
    "1000",
    "--gid",
    "1000",
    "--die-with-parent",
    "--chdir",
    cwd,
  ];
}

function build(prefix: readonly string[], mode: SandboxMode): Sandbox {
  return {
    mode,
    command: (cwd, command, extra = []) => [
      ...prefix,
      "bwrap",
      ...bwrapOptions(cwd),
      ...extra,
      "--",
      ...command,
    ],
  };
}

/** Finds the sandbox this machine allows; throws with what to install or enable. */
export function openSandbox(cwd: string): Sandbox {
  const found = spawnSync("bwrap", ["--version"], { encoding: "utf8" });
  if (found.error !== undefined) {
    throw new Error(
      "bwrap (bubblewrap) is not installed: apt-get install -y bubblewrap (.ci/run does it when missing)",
    );
  }
  const candidates: Sandbox[] = [];
  if (process.getuid?.() === 0 && setprivAvailable()) {
    candidates.push(build(SETPRIV, "real uid 1000 (setpriv + bwrap)"));
  }
  candidates.push(build([], "uid 1000 in a user namespace"));
  const failures: string[] = [];
  for (const sandbox of candidates) {
    const [file = "", ...args] = sandbox.command(cwd, [
      process.execPath,
      "-e",
      "process.exit(require('node:fs').existsSync('dist/cli.js') ? 0 : 3)",
    ]);
    const probe = spawnSync(file, args, { encoding: "utf8", cwd: ROOT });
    if (probe.status === 0) return sandbox;
    failures.push(`${sandbox.mode}: ${probe.stderr.trim() || String(probe.error)}`);
  }
  throw new Error(
    `bwrap cannot make the sandbox here (user namespaces refused?):\n${failures.join("\n")}`,
  );
}

function setprivAvailable(): boolean {
  try {
    accessSync("/usr/bin/setpriv", constants.X_OK);
    return true;
  } catch {
    return spawnSync("setpriv", ["--version"]).status === 0;
  }
}

/** Runs `script` with sh in the sandbox; stdout and stderr together. */
export function runInSandbox(sandbox: Sandbox, cwd: string, script: string): string {
  const [file = "", ...args] = sandbox.command(cwd, ["sh", "-c", script]);
  const run = spawnSync(file, args, { encoding: "utf8", cwd: ROOT });
  return `${run.stdout}${run.stderr}`;
}

export interface SandboxedServer {
  readonly url: string;
  /** The server process's pid (bwrap's child, in the host's pid namespace). */
  readonly pid: number;
  readonly exited: Promise<number | null>;
  output(): string;
  stop(): Promise<number | null>;
}

/**
 * Starts `node dist/cli.js serve` (the image's ENTRYPOINT and CMD) in the sandbox, on
 * port 0 of loopback; resolves with its URL once it logs "failover-api listening".
 */
export async function startSandboxedServer(
  sandbox: Sandbox,
  cwd: string,
  env: Readonly<Record<string, string>>,
): Promise<SandboxedServer> {
  // --info-fd 3: bwrap writes {"child-pid": N} there, the pid of the sandboxed process.
  const [file = "", ...args] = sandbox.command(
    cwd,
    [process.execPath, "dist/cli.js", "serve"],
    ["--info-fd", "3"],
  );
  const child: ChildProcess = spawn(file, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  let output = "";
  let info = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  const infoStream = child.stdio[3];
  infoStream?.on("data", (chunk: Buffer) => {
    info += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  // Bounded just under the hook timeout: a busy machine starts the server later, not never.
  const deadline = Date.now() + 100_000;
  let url: string | undefined;
  let pid: number | undefined;
  while (url === undefined || pid === undefined) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`the sandboxed server did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    url ??= listeningUrl(output);
    const childPid = /"child-pid"\s*:\s*(\d+)/.exec(info)?.[1];
    if (childPid !== undefined) pid = Number(childPid);
  }
  const serverPid = pid;
  return {
    url,
    pid: serverPid,
    exited,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) process.kill(serverPid, "SIGTERM");
      return exited;
    },
  };
}

function listeningUrl(output: string): string | undefined {
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === "failover-api listening" && typeof entry.url === "string") return entry.url;
    } catch {
      // not a log line
    }
  }
  return undefined;
}
