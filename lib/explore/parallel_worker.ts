// One pooled worker thread of a parallel search (parallel.ts): for each job it receives, rebuilds the session
// from the scenario's id, variant, parameters and lib/ overrides (kept for the next job of the same search),
// checks it has the main thread's fingerprint, runs its part and posts the result on the job's port.

import { workerData, parentPort, type MessagePort } from "worker_threads";
import { defaultRegistry } from "./registry";
import { Session } from "./scenario";
import { runPart, PartOptions } from "./shard";
import { stealPart } from "./steal";
import { threadCpuMs, EXEC, STARTED_AT, DONE_AT } from "./parallel";
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
  /** Shared: [done, unused, stop, then per worker executions, start word, done] (parallel.ts). */
  control: SharedArrayBuffer;
  /** DFS: the shared root stack of the work stealing (steal.ts). */
  queue: SharedArrayBuffer | null;
  port: MessagePort;
}

function loadOverride(module: string, fn: string): KernelFn {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ns = require(module) as Record<string, unknown>;
  for (const v of Object.values(ns)) if (typeof v === "function" && v.name === fn) return v as KernelFn;
  throw new Error(`override ${fn} not found in ${module}`);
}

let last: { key: string; session: Session } | null = null;

function sessionOf(job: WorkerJob): Session {
  const key = JSON.stringify([job.scenario, job.variant, job.params, job.overrides, job.fingerprint]);
  if (last?.key === key) return last.session;
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
  last = { key, session };
  return session;
}

function main(job: WorkerJob): void {
  const control = new Int32Array(job.control);
  // the main thread withdraws a job no worker has taken when its own part ends: then there is nothing to do
  if (Atomics.compareExchange(control, STARTED_AT(job.jobs) + job.worker, 0, 1) !== 0) {
    job.port.close();
    return;
  }
  const cpu0 = threadCpuMs();
  try {
    const session = sessionOf(job);
    const deadline = performance.now() + job.msLeft;
    const note = (n: number) => Atomics.store(control, EXEC + job.worker, n);
    const r = job.queue
      ? stealPart(
          session,
          { ...job.part, deadline },
          {
            me: job.worker,
            jobs: job.jobs,
            queue: new Int32Array(job.queue),
            total: () => {
              let n = 0;
              for (let w = 0; w < job.jobs; w++) n += Atomics.load(control, EXEC + w);
              return n;
            },
            note,
          },
        )
      : runPart(session, {
          ...job.part,
          deadline,
          shard: { index: job.worker, count: job.jobs },
          interrupted: () => Atomics.load(control, 2) !== 0,
          onProgress: (p) => note(p.executions),
        });
    note(r.executions);
    const cpu1 = threadCpuMs();
    r.cpuMs = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null; // this job's, the session built included
    if (r.violations.length > 0 && job.part.stopOnViolation !== false) Atomics.store(control, 2, 1);
    job.port.postMessage({ ok: r });
  } catch (e) {
    job.port.postMessage({ error: (e as Error).stack ?? String(e) });
  }
  job.port.close();
  Atomics.store(control, DONE_AT(job.jobs) + job.worker, 1);
  Atomics.add(control, 0, 1);
  Atomics.notify(control, 0);
}

if ((workerData as { flushlabSearchPool?: boolean } | null)?.flushlabSearchPool)
  parentPort!.on("message", (job: WorkerJob) => main(job));
