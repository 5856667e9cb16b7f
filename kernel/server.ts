// A jupyter-server child process on 127.0.0.1 with a random token and a free port, in its own process group
// (a terminal's Ctrl-C must not kill it before it has shut its kernels down) and with a private runtime dir
// (so every process it starts can be found again). Stopped in order: kernels through the API, the server by
// its PID, then any process of the run still alive.
import { spawn, type ChildProcess } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { ServerConnection } from "@jupyterlab/services";
import WebSocket from "ws";
import { jupyterEnv, loadToolchain, type Toolchain } from "./paths";
import { killAllSync, processesOf, reap } from "./run-processes";

export interface JupyterServer {
  port: number;
  token: string;
  pid: number;
  /** Base URL without the token, e.g. http://127.0.0.1:41234/ */
  baseUrl: string;
  logFile: string;
  /** This server's own JUPYTER_RUNTIME_DIR: kernels' connection files, and the mark of every process of the run. */
  runtimeDir: string;
  settings: ServerConnection.ISettings;
  /** Resolves with the exit code when the process ends, for whatever reason. */
  exited: Promise<number | null>;
  /** Kernels shut down through the API, then SIGTERM (SIGKILL after `graceMs`), then leftovers killed; resolves once all are gone. */
  stop(graceMs?: number): Promise<void>;
  /** For process "exit" handlers, which cannot wait: SIGKILL the server and every process it started. */
  killSync(): void;
}

export interface ServerOptions {
  rootDir: string;
  toolchain?: Toolchain;
  /** Fixed port; if busy we fail rather than let Jupyter pick another one silently. Default: a free port. */
  port?: number;
  /** Log file name under .jupyter/log/ (overwritten each start). Default "server.log". */
  logName?: string;
  startTimeoutMs?: number;
}

/** Connection settings for @jupyterlab/services from Node (no global WebSocket in Node 20). */
export function serverSettings(port: number, token: string): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl: `http://127.0.0.1:${port}/`,
    wsUrl: `ws://127.0.0.1:${port}/`,
    token,
    appendToken: true,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  });
}

/** A port that was free a moment ago (the kernel picks it; we close at once and hand it to Jupyter). */
export function freePort(preferred = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", (e: NodeJS.ErrnoException) =>
      preferred && e.code === "EADDRINUSE" ? resolve(freePort(0)) : reject(e),
    );
    srv.listen(preferred, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The argv that runs jupyter-server from the chosen Python. */
export function serverArgv(tc: Toolchain, port: number, rootDir: string): string[] {
  // The token goes in the environment (JUPYTER_TOKEN): /proc/PID/cmdline is world-readable, environ is not.
  const argv = [
    tc.python,
    "-m",
    "jupyter_server",
    "--no-browser",
    `--port=${port}`,
    "--ServerApp.port_retries=0",
    "--ServerApp.ip=127.0.0.1",
    `--ServerApp.root_dir=${rootDir}`,
  ];
  // jupyter-server refuses to run as root without it.
  if (process.getuid?.() === 0) argv.push("--allow-root");
  return argv;
}

export async function startJupyterServer(opts: ServerOptions): Promise<JupyterServer> {
  const tc = opts.toolchain ?? loadToolchain();
  const port = opts.port ?? (await freePort());
  const token = randomBytes(24).toString("hex");
  const logFile = path.join(tc.root, ".jupyter", "log", opts.logName ?? "server.log");
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const baseRuntime = tc.env.JUPYTER_RUNTIME_DIR ?? path.join(tc.root, ".jupyter", "runtime");
  const runtimeDir = path.join(baseRuntime, `server-${process.pid}-${randomBytes(4).toString("hex")}`);
  fs.mkdirSync(runtimeDir, { recursive: true });
  const log = fs.openSync(logFile, "w");
  const [cmd, ...args] = serverArgv(tc, port, opts.rootDir);
  // cwd = root: kernels started without a session path inherit the server's cwd. detached: own process group.
  const child: ChildProcess = spawn(cmd, args, {
    cwd: opts.rootDir,
    env: { ...jupyterEnv(tc), JUPYTER_RUNTIME_DIR: runtimeDir, JUPYTER_TOKEN: token },
    stdio: ["ignore", log, log],
    detached: true,
  });
  fs.closeSync(log);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : null))),
  );
  const pid = child.pid!;
  const settings = serverSettings(port, token);
  let stopping: Promise<void> | null = null;
  const running = () => child.exitCode === null && child.signalCode === null;
  const stopServer = async (graceMs: number): Promise<void> => {
    if (!running()) return;
    child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs))),
    ]);
    clearTimeout(timer); // a pending fallback timer would keep the event loop (and vitest) alive
    if (!done) {
      child.kill("SIGKILL");
      await exited;
    }
  };
  const stop = (graceMs = 10_000): Promise<void> =>
    (stopping ??= (async () => {
      // A server that dies first leaves its kernels running under PID 1: shut them down while it can.
      if (running()) await shutdownKernels(settings, Math.min(graceMs, 8000));
      await reap(processesOf(runtimeDir, [pid]), 2000);
      await stopServer(graceMs);
      await reap(processesOf(runtimeDir), 2000);
      fs.rmSync(runtimeDir, { recursive: true, force: true });
    })());
  const killSync = () => {
    if (running())
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    killAllSync(runtimeDir);
  };
  const server: JupyterServer = {
    port,
    token,
    pid,
    baseUrl: `http://127.0.0.1:${port}/`,
    logFile,
    runtimeDir,
    settings,
    exited,
    stop,
    killSync,
  };
  try {
    await waitUntilUp(server, opts.startTimeoutMs ?? 60_000);
  } catch (e) {
    await stop(2000);
    throw e;
  }
  return server;
}

/** DELETE every kernel the server runs (each one's process is shut down by the server), within `budgetMs`. */
async function shutdownKernels(settings: ServerConnection.ISettings, budgetMs: number): Promise<void> {
  const signal = AbortSignal.timeout(budgetMs);
  const url = (p: string) => `${settings.baseUrl}${p}?token=${settings.token}`;
  try {
    const r = await fetch(url("api/kernels"), { signal });
    const kernels = (await r.json()) as Array<{ id: string }>;
    await Promise.all(
      kernels.map((k) => fetch(url(`api/kernels/${k.id}`), { method: "DELETE", signal }).catch(() => undefined)),
    );
  } catch {
    // server not answering: the process reaping after it catches the kernels
  }
}

async function waitUntilUp(s: JupyterServer, timeoutMs: number): Promise<void> {
  let dead = false;
  void s.exited.then(() => (dead = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (dead) throw new Error(`jupyter-server exited during startup; log ${s.logFile}:\n${tail(s.logFile)}`);
    try {
      const r = await fetch(`${s.baseUrl}api/status?token=${s.token}`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`jupyter-server did not answer within ${timeoutMs} ms; log ${s.logFile}:\n${tail(s.logFile)}`);
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
