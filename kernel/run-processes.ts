// The processes one jupyter-server started (its kernels and anything they spawned), found by the private
// JUPYTER_RUNTIME_DIR the server was given: every kernel inherits it in its environment and is told its
// connection file under it. Linux /proc only; elsewhere nothing is found and only the API shutdown applies.
import * as fs from "fs";

/** PIDs (other than `exclude`) whose command line or environment names `runtimeDir`. */
export function processesOf(runtimeDir: string, exclude: number[] = []): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const envEntry = `JUPYTER_RUNTIME_DIR=${runtimeDir}`;
  const found: number[] = [];
  for (const d of entries) {
    const pid = Number(d);
    if (pid === process.pid || exclude.includes(pid)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, "utf8");
      if (cmd.includes(runtimeDir + "/")) {
        found.push(pid);
        continue;
      }
      const env = fs.readFileSync(`/proc/${d}/environ`, "utf8").split("\0");
      if (env.includes(envEntry)) found.push(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM each, then SIGKILL whatever is left after `graceMs`. Returns the PIDs that needed killing. */
export async function reap(pids: number[], graceMs = 2000): Promise<number[]> {
  const live = pids.filter(alive);
  for (const pid of live)
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      /* already gone */
    }
  for (const deadline = Date.now() + graceMs; live.some(alive) && Date.now() < deadline;)
    await new Promise((r) => setTimeout(r, 50));
  for (const pid of live.filter(alive))
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  return live;
}

/** Synchronous last resort (process "exit" handlers cannot wait): SIGKILL every process of the run. */
export function killAllSync(runtimeDir: string, exclude: number[] = []): void {
  for (const pid of processesOf(runtimeDir, exclude))
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
}
