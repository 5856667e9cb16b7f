// Where a submission's kernel runs: an unprivileged grading user (one per parallel slot), a private working
// copy owned by that user, and a jupyter-server started as that user — so the kernel it spawns is that user too.
import { execFileSync, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { freePort, serverSettings, tail, type JupyterServer } from "../server";
import type { Toolchain } from "../paths";

export const USER_PREFIX = "flushlab-grader-";
const MAX_SLOTS = 16;

export interface Slot {
  index: number;
  user: string;
  uid: number;
  gid: number;
  lockFile: string;
}

export interface Identity {
  uid: number;
  gid: number;
}

/** uid and gid of a user, or undefined if it does not exist. */
export function lookupUser(user: string): Identity | undefined {
  try {
    const uid = Number(
      execFileSync("id", ["-u", user], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(),
    );
    const gid = Number(
      execFileSync("id", ["-g", user], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(),
    );
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** Creates the grading users 0…n-1 with the project's script if any is missing (root only). */
export function ensureUsers(root: string, n: number): void {
  const missing = Array.from({ length: n }, (_, i) => USER_PREFIX + i).some((u) => !lookupUser(u));
  if (missing)
    execFileSync("bash", [path.join(root, "kernel", "classroom", "sandbox-users.sh"), String(n)], {
      stdio: ["ignore", "ignore", "inherit"],
    });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A free slot: its user is ours while we hold /tmp/flushlab-grader-N.lock (O_EXCL, our pid inside; a lock whose
 * pid is gone is stale). Two graders on one machine never share a user, so killing that user's leftovers is safe.
 */
export function acquireSlot(root: string, taken: Set<number>): Slot {
  for (let i = 0; i < MAX_SLOTS; i++) {
    if (taken.has(i)) continue;
    const lockFile = path.join("/tmp", `${USER_PREFIX}${i}.lock`);
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: "wx", mode: 0o600 });
    } catch {
      const holder = Number(fs.readFileSync(lockFile, "utf8"));
      if (holder && holder !== process.pid && alive(holder)) continue;
      fs.writeFileSync(lockFile, String(process.pid), { mode: 0o600 });
    }
    ensureUsers(root, i + 1);
    const id = lookupUser(USER_PREFIX + i)!;
    taken.add(i);
    return { index: i, user: USER_PREFIX + i, uid: id.uid, gid: id.gid, lockFile };
  }
  throw new Error(`all ${MAX_SLOTS} grading slots are taken`);
}

export function releaseSlot(slot: Slot, taken: Set<number>): void {
  taken.delete(slot.index);
  try {
    if (Number(fs.readFileSync(slot.lockFile, "utf8")) === process.pid) fs.rmSync(slot.lockFile);
  } catch {
    // already gone
  }
}

/** PIDs of every process running as `uid` (from /proc; they can only be ones our grader started, see acquireSlot). */
export function processesOf(uid: number): number[] {
  const pids: number[] = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const status = fs.readFileSync(`/proc/${d}/status`, "utf8");
      const real = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
      if (real && (Number(real[1]) === uid || Number(real[2]) === uid)) pids.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** SIGKILLs every process of the slot's user except `keep`; returns how many it killed. */
export function killUserProcesses(uid: number, keep: number[] = []): number {
  if (uid === process.getuid?.()) return 0; // unsandboxed run: never shoot ourselves
  let n = 0;
  for (const pid of processesOf(uid)) {
    if (keep.includes(pid)) continue;
    try {
      process.kill(pid, "SIGKILL");
      n++;
    } catch {
      // gone
    }
  }
  return n;
}

/**
 * Copies the regular files of a submission (never symlinks, devices or anything outside it) into `dest`, owned
 * by the grading user; the submission itself is only read.
 */
export function copySubmission(src: string, dest: string, id: Identity, exclude: (rel: string) => boolean): void {
  const walk = (rel: string) => {
    const from = path.join(src, rel);
    for (const name of fs.readdirSync(from)) {
      const r = path.join(rel, name);
      if (exclude(r)) continue;
      const st = fs.lstatSync(path.join(src, r));
      const to = path.join(dest, r);
      if (st.isDirectory()) {
        fs.mkdirSync(to, { mode: 0o700 });
        fs.chownSync(to, id.uid, id.gid);
        walk(r);
      } else if (st.isFile()) {
        fs.copyFileSync(path.join(src, r), to);
        fs.chmodSync(to, 0o600);
        fs.chownSync(to, id.uid, id.gid);
      }
    }
  };
  walk("");
}

/** A private folder tree for one submission: `<dir>/{home,runtime,data,config,work}`, 0700, owned by the user. */
export function makePrivateDir(dir: string, id: Identity, root: string): { work: string; home: string } {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const sub of ["home", "runtime", "data", "config", "work"]) fs.mkdirSync(path.join(dir, sub), { mode: 0o700 });
  for (const sub of ["", "home", "runtime", "data", "config", "work"])
    fs.chownSync(path.join(dir, sub), id.uid, id.gid);
  fs.chmodSync(dir, 0o700);
  // `import "flushlab"` from the working copy: Node10 resolution walks up to this link (root's, read-only for them).
  fs.mkdirSync(path.join(dir, "node_modules"), { mode: 0o755 });
  fs.symlinkSync(root, path.join(dir, "node_modules", "flushlab"));
  return { work: path.join(dir, "work"), home: path.join(dir, "home") };
}

/**
 * jupyter-server as the grading user, root_dir = the working copy. The token goes in the environment, not argv
 * (/proc/PID/cmdline is world-readable; environ is not). Jupyter state lives in the private folder.
 */
export async function startSandboxServer(
  tc: Toolchain,
  dir: string,
  id: Identity | undefined,
  logFile: string,
): Promise<JupyterServer> {
  const port = await freePort();
  const token = randomBytes(24).toString("hex");
  const nodeDir = path.dirname(process.execPath);
  const env: NodeJS.ProcessEnv = {
    PATH: `${nodeDir}${path.delimiter}/usr/local/bin:/usr/bin:/bin`,
    LANG: process.env.LANG ?? "C.UTF-8",
    HOME: path.join(dir, "home"),
    JUPYTER_TOKEN: token,
    JUPYTER_PATH: tc.env.JUPYTER_PATH,
    JUPYTER_DATA_DIR: path.join(dir, "data"),
    JUPYTER_RUNTIME_DIR: path.join(dir, "runtime"),
    JUPYTER_CONFIG_DIR: path.join(dir, "config"),
    IPYTHONDIR: path.join(dir, "home", ".ipython"),
  };
  const args = [
    "-m",
    "jupyter_server",
    "--no-browser",
    `--port=${port}`,
    "--ServerApp.port_retries=0",
    "--ServerApp.ip=127.0.0.1",
    `--ServerApp.root_dir=${path.join(dir, "work")}`,
    "--KernelManager.shutdown_wait_time=1",
  ];
  if (!id && process.getuid?.() === 0) args.push("--allow-root");
  const log = fs.openSync(logFile, "w");
  const child = spawn(tc.python, args, {
    cwd: path.join(dir, "work"),
    env,
    stdio: ["ignore", log, log],
    uid: id?.uid,
    gid: id?.gid,
  });
  fs.closeSync(log);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : null))),
  );
  const stop = async (graceMs = 3000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!done) {
      child.kill("SIGKILL");
      await exited;
    }
  };
  const killSync = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  const server: JupyterServer = {
    port,
    token,
    pid: child.pid!,
    baseUrl: `http://127.0.0.1:${port}/`,
    logFile,
    runtimeDir: env.JUPYTER_RUNTIME_DIR!,
    settings: serverSettings(port, token),
    exited,
    stop,
    killSync,
  };
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (dead) throw new Error(`grading server exited during startup; log ${logFile}:\n${tail(logFile)}`);
    try {
      if ((await fetch(`${server.baseUrl}api/status?token=${token}`)).ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop(1000);
  throw new Error(`grading server did not answer within 60 s; log ${logFile}:\n${tail(logFile)}`);
}
