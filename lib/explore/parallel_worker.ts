// One worker thread of a parallel search (parallel.ts): rebuilds the session from the scenario's id, variant,
// parameters and lib/ overrides, checks it has the main thread's fingerprint, runs its part and posts the result.

import { workerData, type MessagePort } from "worker_threads";
import { defaultRegistry } from "./registry";
import { Session } from "./scenario";
import { runPart, PartOptions } from "./shard";
import { threadCpuMs } from "./parallel";
import type { KernelFn } from "../sim/kernel";
import "../examples/index"; // the scenarios a worker can search: the default registry's
import "../fixes/index";

export interface WorkerJob {
  flushlabSearchWorker: true;
  worker: number;
  jobs: number;
  scenario: string;
  variant: string;
  params: Record<string, unknown>;
  /** Override name → the compiled module to load it from and the function's name there. */
  overrides: Record<string, { module: string; fn: string }>;
  fingerprint: string;
  part: Omit<PartOptions, "keep" | "onProgress" | "interrupted" | "deadline">;
  /** Milliseconds left (performance.now() differs between threads). */
  msLeft: number;
  /** Shared: [done, started, stop, then per worker executions, started, done] (parallel.ts). */
  control: SharedArrayBuffer;
  /** DFS: one claim word per prefix at the split depth (0 free, 1 taken). */
  claims: SharedArrayBuffer | null;
  port: MessagePort;
}

function loadOverride(module: string, fn: string): KernelFn {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ns = require(module) as Record<string, unknown>;
  for (const v of Object.values(ns)) if (typeof v === "function" && v.name === fn) return v as KernelFn;
  throw new Error(`override ${fn} not found in ${module}`);
}

function main(job: WorkerJob): void {
  const control = new Int32Array(job.control);
  Atomics.add(control, 1, 1);
  Atomics.store(control, 3 + job.jobs + job.worker, 1);
  try {
    const overrides: Record<string, KernelFn> = {};
    for (const [name, o] of Object.entries(job.overrides)) overrides[name] = loadOverride(o.module, o.fn);
    const session = new Session(defaultRegistry.get(job.scenario), {
      variant: job.variant,
      params: job.params,
      overrides,
    });
    if (session.fingerprint !== job.fingerprint)
      throw new Error(
        `worker's model has fingerprint ${session.fingerprint}, the search's ${job.fingerprint} (dist/ out of date? run npm run build)`,
      );
    const claims = job.claims ? new Int32Array(job.claims) : null;
    const keep = claims
      ? (j: number) =>
          j < claims.length ? Atomics.compareExchange(claims, j, 0, 1) === 0 : j % job.jobs === job.worker
      : undefined;
    const r = runPart(session, {
      ...job.part,
      deadline: performance.now() + job.msLeft,
      ...(keep ? { keep } : { shard: { index: job.worker, count: job.jobs } }),
      interrupted: () => Atomics.load(control, 2) !== 0,
      onProgress: (p) => Atomics.store(control, 3 + job.worker, p.executions),
    });
    Atomics.store(control, 3 + job.worker, r.executions);
    r.cpuMs = threadCpuMs(); // the whole thread: module loading and the session included
    if (r.violations.length > 0 && job.part.stopOnViolation !== false) Atomics.store(control, 2, 1);
    job.port.postMessage({ ok: r });
  } catch (e) {
    job.port.postMessage({ error: (e as Error).stack ?? String(e) });
  }
  job.port.close();
  Atomics.store(control, 3 + 2 * job.jobs + job.worker, 1);
  Atomics.add(control, 0, 1);
  Atomics.notify(control, 0);
}

const job = workerData as WorkerJob | null;
if (job && job.flushlabSearchWorker) main(job);
