// Bench section "memory" (issue 15, goal 1): a stateless search must use memory bounded by its depth, not by the
// executions it has run. One unbounded DFS of lazy-mmu-batch after at 3 CPUs × 1 page (not exhausted for
// minutes), sampled through explore's progress callback at 10^4, 10^5 and 10^6 executions: RSS, heapUsed and
// arrayBuffers (where the per-step access log leaked before). Runs alone: `node dist/lib/cli/bench_memory.js`.

import * as v8 from "v8";
import { explore } from "../explore/explore";
import "../fixes/index";

export interface MemorySample {
  executions: number;
  rssMb: number;
  heapUsedMb: number;
  arrayBuffersMb: number;
  /** V8's young generation (new space) as sized now: it grows with allocation rate up to its limit. */
  newSpaceMb: number;
  /** Highest RSS seen at any progress report so far. */
  peakRssMb: number;
  /** Seconds since the search started. */
  s: number;
}

export interface MemoryFigure {
  scope: string;
  samples: MemorySample[];
  /** RSS at the last sample minus RSS at the first, MB. */
  rssGrowthMb: number;
  /** The same net of V8's young generation growing to its fixed limit (a one-off, not per execution), MB. */
  netGrowthMb: number;
  /** Net bytes of RSS per execution, first to last sample (~1,500 when the access log leaked, issue 15). */
  bytesPerExecution: number;
  /** The net growth is within FLAT_MB: memory does not grow with executions. */
  flat: boolean;
  wallMs: number;
  executions: number;
  /** The search ended (exhausted or out of time) before the last count was reached. */
  stoppedEarly: boolean;
}

/** RSS noise of one V8 process between samples (heap growth steps, the scavenger's semi-spaces). */
export const FLAT_MB = 16;
class Enough {
  constructor(readonly executions: number) {}
}
const mb = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;

export function runMemoryBench(opts: { quick?: boolean; log: (s: string) => void }): MemoryFigure {
  const counts = opts.quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
  const last = counts[counts.length - 1];
  const params = { cpus: 3, pages: 1 };
  const scope = `lazy-mmu-batch/after cpus=3,pages=1, unbounded, stateless`;
  opts.log(`\nmemory: RSS of one unbounded stateless DFS (${scope}), by executions:`);
  const samples: MemorySample[] = [];
  let peak = 0;
  let next = 0;
  const t0 = performance.now();
  let executions: number;
  try {
    executions = explore("lazy-mmu-batch", {
      variant: "after",
      params,
      preemptions: Infinity,
      // sleep-blocked executions count against this too: the last sample ends the search instead
      maxExecutions: last * 2,
      timeLimitMs: 600_000,
      onProgress: (p) => {
        const u = process.memoryUsage();
        if (u.rss > peak) peak = u.rss;
        // progress comes every 256 executions: the first report at or past each count is its sample
        if (next < counts.length && p.executions >= counts[next]) {
          samples.push({
            executions: p.executions,
            rssMb: mb(u.rss),
            heapUsedMb: mb(u.heapUsed),
            arrayBuffersMb: mb(u.arrayBuffers),
            newSpaceMb: mb(v8.getHeapSpaceStatistics().find((x) => x.space_name === "new_space")?.space_size ?? 0),
            peakRssMb: mb(peak),
            s: Math.round(p.elapsedMs / 100) / 10,
          });
          next++;
          if (next === counts.length) throw new Enough(p.executions);
        }
      },
    }).executions; // exhausted (or out of time) before the last count
  } catch (e) {
    // the search unwinds at the last sample (as `flushlab explore` does on ^C): the figures are taken
    if (!(e instanceof Enough)) throw e;
    executions = e.executions;
  }
  const wallMs = Math.round(performance.now() - t0);
  for (const x of samples)
    opts.log(
      `  ${String(x.executions).padStart(9)} executions (${x.s} s): rss ${x.rssMb} MB (peak ${x.peakRssMb}), heapUsed ${x.heapUsedMb} MB, arrayBuffers ${x.arrayBuffersMb} MB, V8 new space ${x.newSpaceMb} MB`,
    );
  const n = samples.length;
  const d = (f: (x: MemorySample) => number): number => (n > 1 ? f(samples[n - 1]) - f(samples[0]) : 0);
  const growth = Math.round(d((x) => x.rssMb) * 10) / 10;
  const net = Math.round(d((x) => x.rssMb - x.newSpaceMb) * 10) / 10;
  const perExec = n > 1 ? Math.round((net * 2 ** 20) / d((x) => x.executions)) : 0;
  const fig: MemoryFigure = {
    scope,
    samples,
    rssGrowthMb: growth,
    netGrowthMb: net,
    bytesPerExecution: perExec,
    flat: n === counts.length && Math.abs(net) <= FLAT_MB,
    wallMs,
    executions,
    stoppedEarly: samples.length < counts.length,
  };
  opts.log(
    `  RSS ${fig.flat ? "flat" : "NOT flat"}: ${growth >= 0 ? "+" : ""}${growth} MB from ${counts[0]} to ${samples[n - 1]?.executions ?? "?"} executions, ${net >= 0 ? "+" : ""}${net} MB net of V8's new space (${perExec} B/execution; noise allowance ±${FLAT_MB} MB); ${executions} executions in ${(wallMs / 1000).toFixed(1)} s${fig.stoppedEarly ? `, search ended before ${last}` : ""}`,
  );
  return fig;
}

if (require.main === module) {
  const res = runMemoryBench({ quick: process.argv.includes("--quick"), log: (s) => console.log(s) });
  if (process.argv.includes("--json")) console.log(JSON.stringify(res));
}
