// Benchmarks (`flushlab bench`, `npm run bench`): search throughput, reduction factor, time to the first
// minimised counterexample, and timed-mode speed. Printed and saved to bench/results/latest.json.

import * as fs from "fs";
import * as path from "path";
import * as os from "os";
import { modesOf, Session, AnyScenario } from "../explore/scenario";
import { scenarios, getScenario } from "../explore/registry";
import { explore } from "../explore/explore";
import { dfs, RandomPicker, STRATEGY_NAMES } from "../explore/strategies/index";
import { runExecution } from "../explore/exec";
import { runTimed } from "../explore/timed";
import "../examples/index"; // the scenarios measured: the default registry's
import "../fixes/index";
import { runScale } from "./bench_scale";

export interface BenchResult {
  executionsPerSecond: Record<string, number>;
  stepsPerExecution: Record<string, number>;
  nsPerStep: Record<string, number>;
  dfsExecutionsPerSecond: Record<string, number>;
  reductionFactor: Record<string, number>;
  reductionDetail: Record<string, { dpor: number; plain: number }>;
  timeToFirstCounterexampleMs: Record<string, number>;
  /** Per strategy of the registry: scenario/variant → ms to the first minimised counterexample (absent: none found). */
  timeToFirstCounterexampleByStrategyMs: Record<string, Record<string, number>>;
  timedStepsPerSecond: number;
  machine: { cpus: number; model: string; node: string };
  date: string;
}

function measure(fn: () => number, ms: number): { perSec: number; units: number } {
  const t0 = performance.now();
  let units = 0;
  let n = 0;
  while (performance.now() - t0 < ms) {
    units += fn();
    n++;
  }
  const dt = (performance.now() - t0) / 1000;
  return { perSec: n / dt, units: units / n };
}

/** Scenario/variant pairs registered for users (test scenarios excluded). */
function pairs(): [AnyScenario, string][] {
  const out: [AnyScenario, string][] = [];
  for (const s of scenarios()) if (!s.id.startsWith("test-")) for (const v of Object.keys(s.variants)) out.push([s, v]);
  return out;
}

export function runBench(opts: { quick?: boolean; log?: (s: string) => void } = {}): BenchResult {
  const log = opts.log ?? (() => {});
  const window = opts.quick ? 250 : 1500;
  const res: BenchResult = {
    executionsPerSecond: {},
    stepsPerExecution: {},
    nsPerStep: {},
    dfsExecutionsPerSecond: {},
    reductionFactor: {},
    reductionDetail: {},
    timeToFirstCounterexampleMs: {},
    timeToFirstCounterexampleByStrategyMs: {},
    timedStepsPerSecond: 0,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "?", node: process.version },
    date: new Date().toISOString(),
  };
  log(`flushlab bench (${res.machine.cpus} cores, ${res.machine.model}, node ${res.machine.node}), one core`);
  log("\nsearch throughput (random walk, fresh machine per execution, no trace):");
  for (const [s, v] of pairs()) {
    const key = `${s.id}/${v}`;
    const sess = new Session(s, { variant: v });
    let seed = 1;
    const r = measure(
      () => runExecution(sess, new RandomPicker(seed++), { maxSteps: sess.bounds.maxSteps }).steps,
      window,
    );
    res.executionsPerSecond[key] = Math.round(r.perSec);
    res.stepsPerExecution[key] = Math.round(r.units * 10) / 10;
    res.nsPerStep[key] = Math.round(1e9 / (r.perSec * r.units));
    // Whole bounded DPOR searches, repeated over the window (replay of prefixes and race analysis included).
    const t0 = performance.now();
    let dfsExecs = 0;
    while (performance.now() - t0 < window) {
      const d = dfs(sess, {
        reduce: true,
        preemptionBound: sess.bounds.preemptions,
        maxSteps: sess.bounds.maxSteps,
        maxExecutions: Infinity,
        deadline: t0 + window,
        stopOnViolation: false,
      });
      dfsExecs += d.executions + d.sleepBlocked;
    }
    res.dfsExecutionsPerSecond[key] = Math.round((dfsExecs / (performance.now() - t0)) * 1000);
    log(
      `  ${key.padEnd(36)} ${String(res.executionsPerSecond[key]).padStart(9)} exec/s  ${String(res.stepsPerExecution[key]).padStart(6)} steps/exec  ${String(res.nsPerStep[key]).padStart(5)} ns/step   dfs ${res.dfsExecutionsPerSecond[key]} exec/s`,
    );
  }
  log("\nreduction factor (plain DFS / DPOR executions, both exhaustive, no preemption bound):");
  const fixed: [string, string, Record<string, unknown>][] = [
    ["lost-update", "racy", { cpus: 3, iterations: 2 }],
    ["lazy-mmu-batch", "before", { store: false }],
  ];
  for (const [id, v, params] of opts.quick ? fixed.slice(0, 1) : fixed) {
    const s = getScenario(id);
    const sess = new Session(s, { variant: v, params });
    const run = (reduce: boolean) =>
      dfs(sess, {
        reduce,
        preemptionBound: Infinity,
        maxSteps: 1000,
        maxExecutions: 5_000_000,
        deadline: performance.now() + 120_000,
        stopOnViolation: false,
      });
    const red = run(true);
    const full = run(false);
    const key = `${id}/${v}@${JSON.stringify(params).replace(/[{}"]/g, "")}`;
    if (red.exhaustive && full.exhaustive) {
      res.reductionFactor[key] = Math.round((full.executions / red.executions) * 10) / 10;
      res.reductionDetail[key] = { dpor: red.executions, plain: full.executions };
      log(`  ${key.padEnd(36)} ${full.executions} / ${red.executions} = ${res.reductionFactor[key]}×`);
    } else log(`  ${key}: not exhaustive within the budget`);
  }
  for (const strategy of STRATEGY_NAMES) {
    log(`\ntime to first minimised counterexample (${strategy}, default bounds):`);
    const times: Record<string, number> = (res.timeToFirstCounterexampleByStrategyMs[strategy] = {});
    // The sampling strategies only where DFS found one (elsewhere they would spend their whole budget).
    const which =
      strategy === STRATEGY_NAMES[0]
        ? pairs().filter(([s]) => modesOf(s).includes("search"))
        : pairs().filter(([s, v]) => `${s.id}/${v}` in res.timeToFirstCounterexampleMs);
    for (const [s, v] of which) {
      const r = explore(s, { variant: v, strategy, timeLimitMs: 20_000 });
      if (!r.violation) continue;
      times[`${s.id}/${v}`] = r.elapsedMs;
      if (strategy === STRATEGY_NAMES[0]) res.timeToFirstCounterexampleMs[`${s.id}/${v}`] = r.elapsedMs;
      log(
        `  ${`${s.id}/${v}`.padEnd(36)} ${r.elapsedMs} ms  (${r.violation.invariant}, ${r.violation.preemptions} preemption(s), ${r.violation.steps} steps)`,
      );
    }
  }
  const tr = runTimed("lost-update", {
    variant: "spinlock",
    params: { cpus: 8, iterations: opts.quick ? 20_000 : 200_000 },
  });
  res.timedStepsPerSecond = Math.round(tr.steps / (tr.wallMs / 1000));
  log(`\ntimed mode: ${tr.steps} steps in ${tr.wallMs.toFixed(0)} ms = ${res.timedStepsPerSecond} steps/s`);
  Object.assign(res, { scale: runScale({ quick: opts.quick, log }) }); // issue 15 (bench_scale.ts)
  const dir = path.join(process.cwd(), "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "latest.json"), JSON.stringify(res, null, 2) + "\n");
  log(`\nsaved bench/results/latest.json`);
  return res;
}
