// A search on several cores (worker_threads), synchronous for its caller. DFS: every worker walks the same
// prefix tree above the split depth (shard.ts) and claims each prefix it reaches with one atomic
// compare-and-swap, so prefixes are handed out as workers get free (dynamic, no coordinator); PCT and the
// random walk: a portfolio, worker w taking seeds e ≡ w (mod jobs). The parts are merged here. A session whose
// scenario or overrides a worker cannot rebuild (defined in a notebook cell or outside lib/) runs serially, and
// the outcome says why.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Worker, MessageChannel, MessagePort, receiveMessageOnPort } from "worker_threads";
import { defaultRegistry } from "./registry";
import type { Session } from "./scenario";
import { sourceFileOf } from "../sim/sources";
import type { KernelFn } from "../sim/kernel";
import { relFile } from "./model_text";
import {
  runPart,
  countPrefixes,
  splitDepthFor,
  firstDepthFor,
  PartOptions,
  PartResult,
  PartProgress,
  FoundAt,
} from "./shard";
import { estimateOf } from "./estimate";
import type { WorkerJob } from "./parallel_worker";

/** Slots of the shared control array: [done counter, started counter, stop flag, then per worker:]. */
export const EXEC = 3;
const STARTED_AT = (jobs: number) => 3 + jobs;
const DONE_AT = (jobs: number) => 3 + 2 * jobs;

/** Prefixes per worker a parallel DFS aims for: enough that subtrees of uneven size even out. */
export const PREFIXES_PER_JOB = 8;

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
    prefixes: parts[0].prefixes,
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
  let claims: SharedArrayBuffer | null = null;
  let splitDepth: number | undefined;
  let firstDepth: number | undefined;
  if (o.strategy === "dfs") {
    splitDepth = o.splitDepth ?? splitDepthFor(session, o, jobs * PREFIXES_PER_JOB);
    firstDepth = o.firstDepth ?? firstDepthFor(splitDepth, jobs);
    claims = new SharedArrayBuffer(4 * countPrefixes(session, o, splitDepth, Infinity, firstDepth));
  }
  const claimed = claims ? new Int32Array(claims) : null;
  const control = new SharedArrayBuffer(4 * (3 + 3 * jobs));
  const ctl = new Int32Array(control);
  const { keep: _k, onProgress: _p, interrupted: _i, deadline, ...part } = o;
  // This thread is worker 0 (it searches while the others start); threads 1 … jobs−1 are worker threads.
  const ports = new Map<number, MessagePort>();
  const workers = new Map<number, Worker>();
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
      part: { ...part, ...(splitDepth !== undefined ? { splitDepth, firstDepth } : {}) },
      msLeft: deadline - performance.now(),
      control,
      claims,
      port: ch.port2,
    };
    const wk = new Worker(file, { workerData: job, transferList: [ch.port2] });
    wk.unref();
    workers.set(w, wk);
    ports.set(w, ch.port1);
  }
  const stopAll = () => {
    Atomics.store(ctl, 2, 1);
    for (const wk of workers.values()) void wk.terminate();
  };
  const report = (now: number) => {
    if (!p.onProgress) return;
    let executions = 0;
    for (let w = 0; w < jobs; w++) executions += ctl[EXEC + w];
    let taken = 0;
    if (claimed) for (let j = 0; j < claimed.length; j++) taken += claimed[j];
    const fraction = claimed ? Math.max(0, taken - jobs / 2) / Math.max(1, claimed.length) : 0;
    p.onProgress({
      executions,
      elapsedMs: now - t0,
      estimate: claimed ? estimateOf(executions, fraction, now - t0) : null,
    });
  };
  const STARTED = STARTED_AT(jobs);
  const DONE = DONE_AT(jobs);
  const stop = o.stopOnViolation !== false;
  let mine: PartResult;
  try {
    mine = runPart(session, {
      ...o,
      ...(splitDepth !== undefined ? { splitDepth, firstDepth } : {}),
      ...(claimed
        ? {
            keep: (j: number) =>
              j < claimed.length ? Atomics.compareExchange(claimed, j, 0, 1) === 0 : j % jobs === 0,
          }
        : { shard: { index: 0, count: jobs } }),
      interrupted: () => {
        if (p.interrupted?.()) Atomics.store(ctl, 2, 1);
        return Atomics.load(ctl, 2) !== 0;
      },
      onProgress: (q) => {
        ctl[EXEC] = q.executions;
        report(performance.now());
      },
    });
  } catch (e) {
    stopAll(); // the caller stops the search (Ctrl-C at a progress report): stop the workers too
    throw e;
  }
  ctl[EXEC] = mine.executions;
  const cpu1 = threadCpuMs();
  mine.cpuMs = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
  if (stop && mine.violations.length > 0) Atomics.store(ctl, 2, 1);
  // Wait without an event loop (the caller is synchronous): each worker flags itself started and done.
  const startBy = performance.now() + 60_000;
  let lastReport = performance.now();
  for (;;) {
    const seen = Atomics.load(ctl, 0);
    // Every prefix is taken: a worker that has not started holds none, and is not waited for.
    if (claimed && claimed.every((c) => c === 1)) {
      for (const [w, wk] of workers)
        if (Atomics.load(ctl, STARTED + w) === 0) {
          void wk.terminate();
          workers.delete(w);
          ports.get(w)!.close();
          ports.delete(w);
        }
    }
    if ([...workers.keys()].every((w) => Atomics.load(ctl, DONE + w) === 1)) break;
    Atomics.wait(ctl, 0, seen, 100);
    if ([...workers.keys()].some((w) => Atomics.load(ctl, STARTED + w) === 0) && performance.now() > startBy) {
      stopAll();
      return serial("the worker threads did not start within 60 s");
    }
    if (p.interrupted?.()) Atomics.store(ctl, 2, 1);
    const now = performance.now();
    if (now - lastReport > 100) {
      lastReport = now;
      try {
        report(now);
      } catch (e) {
        stopAll();
        throw e;
      }
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
