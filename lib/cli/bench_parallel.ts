// Bench: the parallel search's speed-up on this machine's cores against the serial DFS (same verdict; the
// executions overhead of full branching above the split depth reported), and shard/merge equality (the union of
// n shards' terminal states against the unsharded search's). Opt-in: `npm run bench -- --only parallel` (saved to
// bench/results/parallel.json), or alone: `npm run build && node dist/lib/cli/bench_parallel.js [--quick]`.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Session } from "../explore/scenario";
import { getScenario } from "../explore/registry";
import { dfs } from "../explore/strategies/dfs";
import { runPart, PartOptions } from "../explore/shard";
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
      speedup: number;
      serialExecutions: number;
      parallelExecutions: number;
      /** parallel / serial executions − 1: the full branching above the split depth. */
      overhead: number;
      splitDepth: number | null;
      prefixes: number;
      sameVerdict: boolean;
      serialReason: string | null;
      /** Serial CPU time over the busiest thread's (start-up included): the speed-up on idle cores. */
      cpuSpeedup: number;
      serialCpuMs: number;
      busiestThreadCpuMs: number;
      serialRunsMs: number[];
      parallelRunsMs: number[];
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
  const scopes: [string, string, Record<string, unknown>, number][] = [
    ["lazy-mmu-batch", "after", { cpus: 3, pages: 1 }, 2],
    ["lazy-mmu-batch", "after", { cpus: 3, pages: 3 }, 2],
    ["lazy-mmu-batch", "after", { cpus: 2, pages: 2 }, Infinity],
  ];
  for (const [id, v, params, bound] of opts.quick ? scopes.slice(0, 1) : scopes) {
    const key = `${id}/${v}@${JSON.stringify(params).replace(/[{}"]/g, "")},bound=${bound === Infinity ? "inf" : bound}`;
    const s = new Session(getScenario(id), { variant: v, params });
    // Serial and parallel alternate, median of the repetitions: the machine is shared.
    const serialTimes: number[] = [];
    const parallelTimes: number[] = [];
    const serialCpu: number[] = [];
    const parallelCpu: number[] = [];
    let serial!: ReturnType<typeof dfs>;
    let par!: ReturnType<typeof searchParallel>;
    for (let rep = 0; rep < (opts.quick ? 1 : 3); rep++) {
      const t0 = performance.now();
      const c0 = threadCpuMs() ?? 0;
      serial = dfs(s, {
        reduce: true,
        preemptionBound: bound,
        maxSteps: s.bounds.maxSteps,
        maxExecutions: Infinity,
        deadline: Infinity,
        stopOnViolation: false,
      });
      serialTimes.push(performance.now() - t0);
      serialCpu.push((threadCpuMs() ?? 0) - c0);
      const t1 = performance.now();
      par = searchParallel(s, partOpts(s, bound), { jobs });
      parallelTimes.push(performance.now() - t1);
      parallelCpu.push(Math.max(...par.perWorker.map((w) => w.cpuMs ?? 0)));
    }
    const serialMs = median(serialTimes);
    const parallelMs = median(parallelTimes);
    const row = {
      jobs: par.jobs,
      serialMs: Math.round(serialMs),
      parallelMs: Math.round(parallelMs),
      speedup: Math.round((serialMs / parallelMs) * 100) / 100,
      serialExecutions: serial.executions,
      parallelExecutions: par.result.executions,
      overhead: Math.round((par.result.executions / serial.executions - 1) * 1000) / 1000,
      splitDepth: par.result.splitDepth,
      prefixes: par.result.prefixes,
      sameVerdict:
        par.result.exhaustive === serial.exhaustive && par.result.violations.length > 0 === (serial.violation !== null),
      serialReason: par.serialReason,
      cpuSpeedup: Math.round((median(serialCpu) / Math.max(1, median(parallelCpu))) * 100) / 100,
      serialCpuMs: median(serialCpu),
      busiestThreadCpuMs: median(parallelCpu),
      serialRunsMs: serialTimes.map(Math.round),
      parallelRunsMs: parallelTimes.map(Math.round),
    };
    res.speedup[key] = row;
    log(
      `  ${key.padEnd(52)} serial ${row.serialMs} ms (${row.serialExecutions} exec), ${row.jobs} workers ${row.parallelMs} ms (${row.parallelExecutions} exec, +${(row.overhead * 100).toFixed(0)}%, ${row.prefixes} prefixes at depth ${row.splitDepth}): ${row.speedup}× wall, ${row.cpuSpeedup}× by CPU time (serial ${row.serialCpuMs} ms, busiest thread ${row.busiestThreadCpuMs} ms)${row.sameVerdict ? "" : "  VERDICT DIFFERS"}${par.serialReason ? `  (serial: ${par.serialReason})` : ""}`,
    );
  }
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
