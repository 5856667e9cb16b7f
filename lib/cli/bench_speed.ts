// Speed figures of issue 15 (goals 3 and 6) and issue 9's bounded-DFS shortfall: executions per second per core
// on fix 000's random walk, bounded DFS on lazy-mmu-batch/before, time to the first counterexample at 2 CPUs and
// at 3 CPUs × 3 pages (search apart from minimisation), timed steps per second. Per-core rates are also given
// per CPU second (process.cpuUsage), which a shared, loaded host disturbs less than wall time. Run alone with
// `flushlab bench --only speed` or `node dist/lib/cli/bench_speed.js`.

import { Session } from "../explore/scenario";
import { getScenario } from "../explore/registry";
import { explore } from "../explore/explore";
import { dfs, RandomPicker } from "../explore/strategies/index";
import { runExecution } from "../explore/exec";
import { runTimed } from "../explore/timed";
import "../examples/index";
import "../fixes/index";

export interface SpeedFigures {
  /** lazy-mmu-batch/<variant> random walk: executions per wall second and per CPU second, best of the runs. */
  randomWalk: Record<string, { perWallSecond: number; perCpuSecond: number }>;
  /** lazy-mmu-batch/before, default bound, whole DPOR searches repeated. */
  boundedDfs: { perWallSecond: number; perCpuSecond: number };
  /** Default strategy, lazy-mmu-batch/before: ms to the first violation (search), then minimisation, median of runs. */
  firstCounterexample: Record<
    string,
    { searchMs: number; searchCpuMs: number; minimiseMs: number; executions: number; invariant: string }
  >;
  timedStepsPerSecond: number;
  runs: number;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Run `unit` (returns units done) for `ms` of CPU time; rates per wall and per CPU second. */
function rate(unit: () => number, ms: number): { perWallSecond: number; perCpuSecond: number } {
  const w0 = performance.now();
  const c0 = cpuMs();
  let n = 0;
  while (cpuMs() - c0 < ms) n += unit();
  return {
    perWallSecond: Math.round((n / (performance.now() - w0)) * 1000),
    perCpuSecond: Math.round((n / (cpuMs() - c0)) * 1000),
  };
}

const best = (rs: { perWallSecond: number; perCpuSecond: number }[]) => ({
  perWallSecond: Math.max(...rs.map((r) => r.perWallSecond)),
  perCpuSecond: Math.max(...rs.map((r) => r.perCpuSecond)),
});

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function runSpeedBench(opts: { quick?: boolean; log?: (s: string) => void } = {}): SpeedFigures {
  const log = opts.log ?? (() => {});
  const window = opts.quick ? 250 : 1500;
  const runs = opts.quick ? 1 : 3;
  const lazy = getScenario("lazy-mmu-batch");
  const out: SpeedFigures = {
    randomWalk: {},
    boundedDfs: { perWallSecond: 0, perCpuSecond: 0 },
    firstCounterexample: {},
    timedStepsPerSecond: 0,
    runs,
  };
  log(`\nspeed (best of ${runs}; per CPU second beside per wall second):`);
  for (const v of ["before", "after"]) {
    const sess = new Session(lazy, { variant: v });
    let seed = 1;
    const walk = () => {
      for (let i = 0; i < 50; i++) runExecution(sess, new RandomPicker(seed++), { maxSteps: sess.bounds.maxSteps });
      return 50;
    };
    const r = best(Array.from({ length: runs }, () => rate(walk, window)));
    out.randomWalk[v] = r;
    log(`  random walk lazy-mmu-batch/${v.padEnd(7)} ${r.perWallSecond} exec/s wall, ${r.perCpuSecond} per CPU s`);
  }
  const sess = new Session(lazy, { variant: "before" });
  const search = () => {
    const d = dfs(sess, {
      reduce: true,
      preemptionBound: sess.bounds.preemptions,
      maxSteps: sess.bounds.maxSteps,
      maxExecutions: Infinity,
      deadline: Infinity,
      stopOnViolation: false,
    });
    return d.executions + d.sleepBlocked;
  };
  out.boundedDfs = best(Array.from({ length: runs }, () => rate(search, window)));
  log(
    `  bounded DFS lazy-mmu-batch/before      ${out.boundedDfs.perWallSecond} exec/s wall, ${out.boundedDfs.perCpuSecond} per CPU s`,
  );
  for (const [key, params] of [
    ["2x1", { cpus: 2, pages: 1 }],
    ["3x3", { cpus: 3, pages: 3 }],
  ] as const) {
    const found: { search: number; cpu: number; min: number; ex: number; inv: string }[] = [];
    for (let i = 0; i < Math.max(3, runs); i++) {
      const c0 = cpuMs();
      let cpu = NaN;
      const r = explore(lazy, {
        variant: "before",
        params,
        timeLimitMs: 60_000,
        onProgress: (p) => {
          if (p.found) cpu = cpuMs() - c0; // the search is over, minimisation next
        },
      });
      const min = r.stats.minimiseMs ?? 0;
      found.push({ search: r.elapsedMs - min, cpu, min, ex: r.executions, inv: r.violation?.invariant ?? "none" });
    }
    const f = {
      searchMs: median(found.map((x) => x.search)),
      searchCpuMs: Math.round(median(found.map((x) => x.cpu))),
      minimiseMs: median(found.map((x) => x.min)),
      executions: found[0].ex,
      invariant: found[0].inv,
    };
    out.firstCounterexample[key] = f;
    log(
      `  first counterexample ${key} before: ${f.searchMs} ms search (${f.searchCpuMs} CPU ms; ${f.executions} executions, ${f.invariant}), then ${f.minimiseMs} ms minimising (medians)`,
    );
  }
  for (let i = 0; i < runs; i++) {
    const tr = runTimed("lost-update", {
      variant: "spinlock",
      params: { cpus: 8, iterations: opts.quick ? 20_000 : 200_000 },
    });
    out.timedStepsPerSecond = Math.max(out.timedStepsPerSecond, Math.round(tr.steps / (tr.wallMs / 1000)));
  }
  log(`  timed mode lost-update/spinlock x8:    ${out.timedStepsPerSecond} steps/s`);
  return out;
}

if (require.main === module) runSpeedBench({ log: (s) => console.log(s) });
