// A jupyter-server child process on 127.0.0.1 with a random token and a free port, stopped by its PID.
import { spawn, type ChildProcess } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { ServerConnection } from "@jupyterlab/services";
import WebSocket from "ws";
import { jupyterEnv, loadToolchain, type Toolchain } from "./paths";

export interface JupyterServer {
  port: number;
  token: string;
  pid: number;
  /** Base URL without the token, e.g. http://127.0.0.1:41234/ */
  baseUrl: string;
  logFile: string;
  settings: ServerConnection.ISettings;
  /** Resolves with the exit code when the process ends, for whatever reason. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
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
    srv.once("error", (e: NodeJS.ErrnoException) => (preferred && e.code === "EADDRINUSE" ? resolve(freePort(0)) : reject(e)));
    srv.listen(preferred, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The argv that runs jupyter-server from the chosen Python. */
export function serverArgv(tc: Toolchain, port: number, token: string, rootDir: string): string[] {
  const argv = [tc.python, "-m", "jupyter_server", "--no-browser", `--port=${port}`, "--ServerApp.port_retries=0",
    "--ServerApp.ip=127.0.0.1", `--ServerApp.token=${token}`, `--ServerApp.root_dir=${rootDir}`];
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
  const log = fs.openSync(logFile, "w");
  const [cmd, ...args] = serverArgv(tc, port, token, opts.rootDir);
  // cwd = root: kernels started without a session path inherit the server's cwd.
  const child: ChildProcess = spawn(cmd, args, { cwd: opts.rootDir, env: jupyterEnv(tc), stdio: ["ignore", log, log] });
  fs.closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : null))));
  const pid = child.pid!;
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)))]);
    clearTimeout(timer); // a pending fallback timer would keep the event loop (and vitest) alive
    if (!done) {
      child.kill("SIGKILL");
      await exited;
    }
  };
  const server: JupyterServer = { port, token, pid, baseUrl: `http://127.0.0.1:${port}/`, logFile, settings: serverSettings(port, token), exited, stop };
  try {
    await waitUntilUp(server, opts.startTimeoutMs ?? 60_000);
  } catch (e) {
    await stop(2000);
    throw e;
  }
  return server;
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
