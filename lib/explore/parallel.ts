// A search on several cores (worker_threads), synchronous for its caller. DFS: work stealing (steal.ts): this
// thread starts on the whole tree and a busy worker hands an idle one the shallowest branch left on its path;
// PCT and the random walk: a portfolio, worker w taking seeds e ≡ w (mod jobs). The workers are a pool kept
// warm for the next search in this process (each loads the model once). The parts are merged here. A session
// whose scenario or overrides a worker cannot rebuild (defined in a notebook cell or outside lib/) runs
// serially, and the outcome says why.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Worker, MessageChannel, MessagePort, receiveMessageOnPort } from "worker_threads";
import { defaultRegistry } from "./registry";
import type { Session } from "./scenario";
import { sourceFileOf } from "../sim/sources";
import type { KernelFn } from "../sim/kernel";
import { relFile } from "./model_text";
import { runPart, PartOptions, PartResult, PartProgress, FoundAt } from "./shard";
import { stealBuffer, stealPart, stealOutcome, stopStealing } from "./steal";
import type { WorkerJob } from "./parallel_worker";

/**
 * The shared control array: [done counter, unused, stop flag (sampling), then per worker its executions, its
 * start word (0, then 1 when the worker took the job, or 2 when this thread withdrew it first) and done flag].
 */
export const EXEC = 3;
export const STARTED_AT = (jobs: number) => 3 + jobs;
export const DONE_AT = (jobs: number) => 3 + 2 * jobs;

export interface ParallelOutcome {
  result: PartResult;
  /** Workers used (1 when serial). */
  jobs: number;
  /** Why the search ran serially (null: it ran on `jobs` workers). */
  serialReason: string | null;
  perWorker: { executions: number; searched: number; elapsedMs: number; cpuMs: number | null }[];
}

/**
 * CPU time of the calling thread in ms (Linux: /proc/thread-self/stat, 10 ms ticks), or null elsewhere: what a
 * worker really computed, whatever else shares the machine (the bench reports it beside wall time).
 */
export function threadCpuMs(): number | null {
  try {
    const stat = fs.readFileSync("/proc/thread-self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10; // utime, stime (fields 14, 15), at 100 ticks/s
  } catch {
    return null;
  }
}

/** `--jobs auto`: the cores this process may use. */
export function autoJobs(): number {
  return Math.max(1, typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length);
}

/** The compiled worker (dist/lib/explore/parallel_worker.js), or null if it is not built. */
function workerFile(): string | null {
  const here = path.join(__dirname, "parallel_worker.js");
  if (fs.existsSync(here)) return here;
  // under vitest or tslab this file is lib/explore/parallel.ts: the worker is the build's
  const root = path.resolve(__dirname, "..", "..");
  const built = path.join(root, "dist", "lib", "explore", "parallel_worker.js");
  return fs.existsSync(built) ? built : null;
}

/** Where a worker loads the compiled module of a lib/ function from, or null. */
function compiledModuleOf(fn: KernelFn, dir: string): string | null {
  const abs = sourceFileOf(fn);
  if (abs === null) return null;
  const js = path.join(dir, "..", "..", relFile(abs).replace(/\.ts$/, ".js"));
  return fs.existsSync(js) ? js : null;
}

/** What a worker needs to rebuild `session`, or why it cannot. */
function shipping(
  session: Session,
  overrides: Record<string, KernelFn>,
  worker: string,
): { overrides: WorkerJob["overrides"] } | { reason: string } {
  const id = session.def.id;
  if (!defaultRegistry.has(id) || defaultRegistry.get(id) !== session.def)
    return {
      reason: `scenario ${id} is not the default registry's (defined in a notebook or a test?): a worker cannot rebuild it`,
    };
  const out: WorkerJob["overrides"] = {};
  for (const [name, fn] of Object.entries(overrides)) {
    const module = compiledModuleOf(fn, path.dirname(worker));
    if (module === null)
      return {
        reason: `override ${name} is defined outside lib/ (a notebook cell, a test, an exercise answer): a worker thread cannot load it`,
      };
    out[name] = { module, fn: fn.name };
  }
  return { overrides: out };
}

/** Merge the parts of one search run by different workers. */
export function mergeParts(parts: PartResult[]): PartResult {
  const states = new Set<string>();
  const counts: Record<string, number> = {};
  const coverage: Record<string, number> = {};
  const violations: FoundAt[] = [];
  for (const p of parts) {
    for (const s of p.terminalStates) states.add(s);
    for (const [k, n] of Object.entries(p.violationCounts)) counts[k] = (counts[k] ?? 0) + n;
    for (const [k, n] of Object.entries(p.coverage)) coverage[k] = (coverage[k] ?? 0) + n;
    violations.push(...p.violations);
  }
  violations.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1]);
  return {
    executions: parts.reduce((a, p) => a + p.executions, 0),
    exhaustive: parts.every((p) => p.exhaustive),
    splitDepth: parts[0].splitDepth,
    firstDepth: parts[0].firstDepth,
    // work stealing numbers no prefixes: the subtrees searched (the whole tree and each one handed out)
    prefixes: parts[0].splitDepth === null ? parts.reduce((a, p) => a + p.searched, 0) : parts[0].prefixes,
    searched: parts.reduce((a, p) => a + p.searched, 0),
    violations,
    violationCounts: counts,
    terminalStates: states,
    coverage,
    sleepBlocked: parts.reduce((a, p) => a + p.sleepBlocked, 0),
    prunedByBound: parts.reduce((a, p) => a + p.prunedByBound, 0),
    longestExecution: Math.max(...parts.map((p) => p.longestExecution)),
    ...(parts[0].contexts !== undefined ? { contexts: parts[0].contexts } : {}),
    elapsedMs: Math.max(...parts.map((p) => p.elapsedMs)),
  };
}

export interface ParallelOptions {
  jobs: number;
  /** The session's overrides (explore's `overrides`), which a worker must rebuild. */
  overrides?: Record<string, KernelFn>;
  onProgress?: (p: PartProgress) => void;
  interrupted?: () => boolean;
}

/** Worker threads kept for the next parallel search in this process (unref'd: they never hold it open). */
const pool: Worker[] = [];

function poolOf(n: number, file: string): Worker[] {
  while (pool.length < n) {
    const wk = new Worker(file, { workerData: { flushlabSearchPool: true } });
    wk.unref();
    wk.on("error", () => {
      const at = pool.indexOf(wk);
      if (at >= 0) pool.splice(at, 1);
    });
    pool.push(wk);
  }
  return pool.slice(0, n);
}

/** Search `session` with `o` on `p.jobs` worker threads (or serially, saying why). */
export function searchParallel(session: Session, o: PartOptions, p: ParallelOptions): ParallelOutcome {
  const serial = (reason: string): ParallelOutcome => {
    const r = runPart(session, { ...o, onProgress: p.onProgress, interrupted: p.interrupted });
    return { result: r, jobs: 1, serialReason: reason, perWorker: [] };
  };
  const jobs = Math.max(1, Math.floor(p.jobs));
  if (jobs === 1) return serial("--jobs 1");
  const file = workerFile();
  if (file === null) return serial("no compiled worker (dist/lib/explore/parallel_worker.js): run npm run build");
  const ship = shipping(session, p.overrides ?? {}, file);
  if ("reason" in ship) return serial(ship.reason);

  const t0 = performance.now();
  const cpu0 = threadCpuMs();
  const dfs = o.strategy === "dfs";
  const queue = dfs ? stealBuffer(jobs, o.maxSteps) : null;
  const q = queue ? new Int32Array(queue) : null;
  const control = new SharedArrayBuffer(4 * (3 + 3 * jobs));
  const ctl = new Int32Array(control);
  const STARTED = STARTED_AT(jobs);
  const DONE = DONE_AT(jobs);
  const { keep: _k, onProgress: _p, interrupted: _i, deadline, ...part } = o;
  // This thread is worker 0 (it searches while the others start); threads 1 … jobs−1 are the pool's.
  const ports = new Map<number, MessagePort>();
  const workers = poolOf(jobs - 1, file);
  for (let w = 1; w < jobs; w++) {
    const ch = new MessageChannel();
    const job: WorkerJob = {
      flushlabSearchWorker: true,
      worker: w,
      jobs,
      scenario: session.def.id,
      variant: session.variant,
      params: session.params as Record<string, unknown>,
      overrides: ship.overrides,
      fingerprint: session.fingerprint,
      part,
      msLeft: deadline - performance.now(),
      control,
      queue,
      port: ch.port2,
    };
    workers[w - 1].postMessage(job, [ch.port2]);
    ports.set(w, ch.port1);
  }
  const total = (): number => {
    let n = 0;
    for (let w = 0; w < jobs; w++) n += Atomics.load(ctl, EXEC + w);
    return n;
  };
  const stopAll = () => {
    Atomics.store(ctl, 2, 1);
    if (q) stopStealing(q, 2);
  };
  let lastReport = performance.now();
  const report = (now: number) => {
    if (!p.onProgress || now - lastReport < 100) return;
    lastReport = now;
    p.onProgress({ executions: total(), elapsedMs: now - t0, estimate: null });
  };
  const interrupted = (): boolean => {
    if (p.interrupted?.()) stopAll();
    report(performance.now());
    return Atomics.load(ctl, 2) !== 0;
  };
  const stop = o.stopOnViolation !== false;
  let mine: PartResult;
  try {
    mine = q
      ? stealPart(session, o, {
          me: 0,
          jobs,
          queue: q,
          total,
          note: (n) => Atomics.store(ctl, EXEC, n),
          interrupted,
        })
      : runPart(session, {
          ...o,
          shard: { index: 0, count: jobs },
          interrupted,
          onProgress: (x) => {
            Atomics.store(ctl, EXEC, x.executions);
            report(performance.now());
          },
        });
  } catch (e) {
    stopAll(); // the caller stops the search (Ctrl-C at a progress report): stop the workers too
    throw e;
  }
  Atomics.store(ctl, EXEC, mine.executions);
  const cpu1 = threadCpuMs();
  mine.cpuMs = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
  if (stop && mine.violations.length > 0) stopAll();
  // A worker that has not taken the job yet holds no work: withdraw it rather than wait for it to start.
  const waiting = new Set<number>();
  for (let w = 1; w < jobs; w++) {
    if (Atomics.compareExchange(ctl, STARTED + w, 0, 2) === 0) {
      ports.get(w)!.close();
      ports.delete(w);
    } else waiting.add(w);
  }
  // Wait without an event loop (the caller is synchronous): each worker flags itself done.
  const giveUpBy = performance.now() + 600_000;
  for (;;) {
    const seen = Atomics.load(ctl, 0);
    if ([...waiting].every((w) => Atomics.load(ctl, DONE + w) === 1)) break;
    Atomics.wait(ctl, 0, seen, 100);
    if (p.interrupted?.()) stopAll();
    if (performance.now() > giveUpBy) {
      stopAll();
      return serial("the worker threads did not finish");
    }
    try {
      report(performance.now());
    } catch (e) {
      stopAll();
      throw e;
    }
  }
  const parts: PartResult[] = [mine];
  const errors: string[] = [];
  for (const port of ports.values()) {
    const m = receiveMessageOnPort(port)?.message as { ok?: PartResult; error?: string } | undefined;
    port.close();
    if (m?.ok) parts.push(m.ok);
    else errors.push(m?.error ?? "a worker ended without a result");
  }
  if (errors.length > 0) return serial(`a worker failed (${errors[0].split("\n")[0]})`);
  const result = mergeParts(parts);
  if (q) {
    // every round searched to its end, and nothing stopped the search
    const { stopped } = stealOutcome(q);
    result.exhaustive = parts.every((x) => x.exhaustive) && stopped === 0;
  }
  result.elapsedMs = Math.round(performance.now() - t0);
  return {
    result,
    jobs,
    serialReason: null,
    perWorker: parts.map((r) => ({
      executions: r.executions,
      searched: r.searched,
      elapsedMs: r.elapsedMs,
      cpuMs: r.cpuMs ?? null,
    })),
  };
}
