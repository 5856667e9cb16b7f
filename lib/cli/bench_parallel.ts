// Bench: the parallel search's speed-up on this machine's cores against the serial DFS, by wall and by CPU
// time, with the load average beside each figure (the machine is shared); the same verdict and terminal states
// checked, the executions overhead of work stealing reported; and shard/merge equality (the union of
// n shards' terminal states against the unsharded search's). Opt-in: `npm run bench -- --only parallel` (saved to
// bench/results/parallel.json), or alone: `npm run build && node dist/lib/cli/bench_parallel.js [--quick]`.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Session } from "../explore/scenario";
import { getScenario } from "../explore/registry";
import { runPart, PartOptions, PartResult } from "../explore/shard";
import { searchParallel, threadCpuMs } from "../explore/parallel";
import "../examples/index";
import "../fixes/index";

export interface ParallelBench {
  /** Load average (1 min) at the start and the end: the machine is shared. */
  load: [number, number];
  cores: number;
  speedup: Record<
    string,
    {
      jobs: number;
      serialMs: number;
      parallelMs: number;
      /** Median serial wall time over the median parallel one (warm pool). */
      speedup: number;
      /** The first parallel run of the process (the pool's threads start and load the model): its wall time. */
      coldMs: number;
      serialExecutions: number;
      parallelExecutions: number;
      /** parallel / serial executions − 1: full branching above each stolen branch. */
      overhead: number;
      /** Subtrees searched: the whole tree and every branch handed out. */
      subtrees: number;
      sameVerdict: boolean;
      sameStates: boolean;
      serialReason: string | null;
      /** Serial CPU time over the busiest thread's: the speed-up on idle cores. */
      cpuSpeedup: number;
      serialCpuMs: number;
      busiestThreadCpuMs: number;
      /** Every thread's CPU time over the serial one's − 1: what running in parallel costs in work. */
      cpuOverhead: number;
      serialRunsMs: number[];
      parallelRunsMs: number[];
      /** os.loadavg()[0] before each repetition: figures taken at a load near or above 1 are not quiet. */
      loadPerRun: number[];
      /** The best repetition's wall speed-up and the load before it (the quietest moment found). */
      bestSpeedup: number;
      bestLoad: number;
    }
  >;
  shardEquality: Record<string, { n: number; sameStates: boolean; sameVerdict: boolean; executions: number }[]>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function partOpts(s: Session, bound: number): PartOptions {
  return {
    strategy: "dfs",
    preemptions: bound,
    reduce: true,
    depth: s.bounds.depth,
    maxSteps: s.bounds.maxSteps,
    deadline: Infinity,
    seed: 1,
    stopOnViolation: false,
  };
}

export function runBenchParallel(opts: { quick?: boolean; log?: (s: string) => void } = {}): ParallelBench {
  const log = opts.log ?? (() => {});
  const jobs = Math.min(2, os.cpus().length);
  const res: ParallelBench = { load: [os.loadavg()[0], 0], cores: os.cpus().length, speedup: {}, shardEquality: {} };
  log(
    `\nparallel DFS (${jobs} worker threads vs one thread; load average ${res.load[0].toFixed(1)} on ${res.cores} cores):`,
  );
  // 3 x 3 as measured before; 3 x 5 and split-tlb-flush (3 CPUs) run long enough that start-up is amortised
  const scopes: [string, string, Record<string, unknown>, number][] = [
    ["lazy-mmu-batch", "after", { cpus: 3, pages: 3 }, 2],
    ["lazy-mmu-batch", "after", { cpus: 3, pages: 5 }, 2],
    ["split-tlb-flush", "after", {}, 2],
    ["lazy-mmu-batch", "after", { cpus: 2, pages: 2 }, Infinity],
  ];
  let cold: number | null = null; // the first parallel search of this process starts the pool
  for (const [id, v, params, bound] of opts.quick ? scopes.slice(0, 1) : scopes) {
    const key = `${id}/${v}@${JSON.stringify(params).replace(/[{}"]/g, "")},bound=${bound === Infinity ? "inf" : bound}`;
    const s = new Session(getScenario(id), { variant: v, params });
    // Serial and parallel alternate, median of the repetitions: the machine is shared.
    const serialTimes: number[] = [];
    const parallelTimes: number[] = [];
    const serialCpu: number[] = [];
    const parallelCpu: number[] = [];
    const totalCpu: number[] = [];
    const loads: number[] = [];
    let serial!: PartResult;
    let par!: ReturnType<typeof searchParallel>;
    for (let rep = 0; rep < (opts.quick ? 1 : 3); rep++) {
      loads.push(Math.round(os.loadavg()[0] * 100) / 100);
      const t0 = performance.now();
      const c0 = threadCpuMs() ?? 0;
      serial = runPart(s, { ...partOpts(s, bound), terminal: true });
      serialTimes.push(performance.now() - t0);
      serialCpu.push((threadCpuMs() ?? 0) - c0);
      const t1 = performance.now();
      par = searchParallel(s, { ...partOpts(s, bound), terminal: true }, { jobs });
      parallelTimes.push(performance.now() - t1);
      cold ??= parallelTimes[0];
      parallelCpu.push(Math.max(...par.perWorker.map((w) => w.cpuMs ?? 0)));
      totalCpu.push(par.perWorker.reduce((a, w) => a + (w.cpuMs ?? 0), 0));
    }
    const serialMs = median(serialTimes);
    const parallelMs = median(parallelTimes);
    const ratios = serialTimes.map((t, k) => t / parallelTimes[k]);
    const best = ratios.indexOf(Math.max(...ratios));
    const round2 = (x: number) => Math.round(x * 100) / 100;
    const row = {
      jobs: par.jobs,
      serialMs: Math.round(serialMs),
      parallelMs: Math.round(parallelMs),
      speedup: round2(serialMs / parallelMs),
      coldMs: Math.round(parallelTimes[0]),
      serialExecutions: serial.executions,
      parallelExecutions: par.result.executions,
      overhead: Math.round((par.result.executions / serial.executions - 1) * 1000) / 1000,
      subtrees: par.result.prefixes,
      sameVerdict:
        par.result.exhaustive === serial.exhaustive &&
        Object.keys(par.result.violationCounts).sort().join() === Object.keys(serial.violationCounts).sort().join(),
      sameStates:
        par.result.terminalStates.size === serial.terminalStates.size &&
        [...par.result.terminalStates].every((x) => serial.terminalStates.has(x)),
      serialReason: par.serialReason,
      cpuSpeedup: round2(median(serialCpu) / Math.max(1, median(parallelCpu))),
      serialCpuMs: median(serialCpu),
      busiestThreadCpuMs: median(parallelCpu),
      cpuOverhead: round2(median(totalCpu) / Math.max(1, median(serialCpu)) - 1),
      serialRunsMs: serialTimes.map(Math.round),
      parallelRunsMs: parallelTimes.map(Math.round),
      loadPerRun: loads,
      bestSpeedup: round2(ratios[best]),
      bestLoad: loads[best],
    };
    res.speedup[key] = row;
    log(
      `  ${key.padEnd(48)} serial ${row.serialMs} ms (${row.serialExecutions} exec), ${row.jobs} workers ${row.parallelMs} ms ` +
        `(${row.parallelExecutions} exec, +${(row.overhead * 100).toFixed(1)}%, ${row.subtrees} subtrees): ` +
        `${row.speedup}× wall (best ${row.bestSpeedup}× at load ${row.bestLoad}; loads ${loads.join(", ")}), ` +
        `${row.cpuSpeedup}× by CPU time (serial ${row.serialCpuMs} ms, busiest thread ${row.busiestThreadCpuMs} ms, ` +
        `+${(row.cpuOverhead * 100).toFixed(0)}% CPU in all)${row.sameVerdict && row.sameStates ? ", same verdict and terminal states" : "  VERDICT OR STATES DIFFER"}` +
        `${par.serialReason ? `  (serial: ${par.serialReason})` : ""}`,
    );
  }
  if (cold !== null)
    log(`  (the first parallel search of the process, pool start-up included: ${Math.round(cold)} ms)`);
  log("\nshards: union of n shards against the unsharded search (terminal states, verdict):");
  const eq: [string, string, Record<string, unknown>][] = [
    ["lazy-mmu-batch", "before", { cpus: 3 }],
    ["lazy-mmu-batch", "after", { cpus: 3 }],
  ];
  for (const [id, v, params] of opts.quick ? eq.slice(1) : eq) {
    const key = `${id}/${v}@${JSON.stringify(params).replace(/[{}"]/g, "")}`;
    const s = new Session(getScenario(id), { variant: v, params });
    const o = { ...partOpts(s, s.bounds.preemptions), terminal: true };
    const whole = runPart(s, o);
    const rows: ParallelBench["shardEquality"][string] = [];
    for (const n of [1, 2, 3, 7]) {
      const parts = Array.from({ length: n }, (_, i) => runPart(s, { ...o, shard: { index: i, count: n } }));
      const states = new Set(parts.flatMap((p) => [...p.terminalStates]));
      const inv = new Set(parts.flatMap((p) => Object.keys(p.violationCounts)));
      rows.push({
        n,
        sameStates: states.size === whole.terminalStates.size && [...states].every((x) => whole.terminalStates.has(x)),
        sameVerdict:
          parts.every((p) => p.exhaustive) === whole.exhaustive &&
          [...inv].sort().join() === Object.keys(whole.violationCounts).sort().join(),
        executions: parts.reduce((a, p) => a + p.executions, 0),
      });
    }
    res.shardEquality[key] = rows;
    log(
      `  ${key.padEnd(36)} unsharded ${whole.executions} exec, ${whole.terminalStates.size} states; ` +
        rows
          .map((r) => `n=${r.n}: ${r.sameStates && r.sameVerdict ? "same" : "DIFFERENT"} (${r.executions} exec)`)
          .join(", "),
    );
  }
  res.load[1] = os.loadavg()[0];
  log(`  (load average at the end ${res.load[1].toFixed(1)})`);
  return res;
}

// Alone (`node dist/lib/cli/bench_parallel.js`): saved where `--only parallel` saves.
if (require.main === module) {
  const res = runBenchParallel({ quick: process.argv.includes("--quick"), log: (s) => console.log(s) });
  const dir = path.join(process.cwd(), "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "parallel.json"),
    JSON.stringify({ parallel: res, date: new Date().toISOString() }, null, 2) + "\n",
  );
  console.log("saved bench/results/parallel.json");
}
