// Benchmarks (`flushlab bench`, `npm run bench`): search throughput, reduction factor, time to the first
// minimised counterexample, and timed-mode speed, in sections that run alone with `--only`. Printed and saved to
// bench/results/latest.json (a whole run) or bench/results/<section>[+<section>…].json (an --only run).

import * as fs from "fs";
import * as path from "path";
import * as os from "os";
import { modesOf, Session, AnyScenario } from "../explore/scenario";
import { scenarios, getScenario } from "../explore/registry";
import { explore } from "../explore/explore";
import { dfs, RandomPicker, STRATEGY_NAMES, type StrategyName } from "../explore/strategies/index";
import { runExecution } from "../explore/exec";
import { runTimed } from "../explore/timed";
import { largerBounds, type LargerBoundFigure } from "./bench_bounds";
import { runBenchParallel } from "./bench_parallel";
import { runSpeedBench } from "./bench_speed";
import "../examples/index"; // the scenarios measured: the default registry's
import "../fixes/index";
import { runScale } from "./bench_scale";
import { benchThpWalkIrq } from "./bench_thp";
import { runMemoryBench } from "./bench_memory";

/** The sections, in the order they run; `--only` picks some. */
export const BENCH_SECTIONS = [
  "throughput",
  "reduction",
  "first-counterexample",
  "timed",
  "larger-bounds",
  "parallel",
  "speed",
  "thp-walk-irq",
  "scale",
  "memory",
] as const;
export type BenchSection = (typeof BENCH_SECTIONS)[number];
/** Sections a whole run leaves out (minutes, for one notebook's figures): `--only` runs them. */
const OPT_IN: readonly BenchSection[] = ["larger-bounds"];

/** The sections a run measures, in order: those of `only`, else all but the opt-in ones. */
export function benchSections(only?: readonly BenchSection[]): BenchSection[] {
  return BENCH_SECTIONS.filter((x) => (only ? only.includes(x) : !OPT_IN.includes(x)));
}

export interface BenchOptions {
  quick?: boolean;
  log?: (s: string) => void;
  /** Run these sections only (default: all of them). */
  only?: readonly BenchSection[];
  /** Time to first counterexample for every strategy of the registry, not only the default one (DFS). */
  allStrategies?: boolean;
  /** Where the results file goes (default: bench/results under the working directory). */
  dir?: string;
}

export interface BenchResult {
  /** The sections this run measured (older files, which lack it, measured all of them). */
  sections: BenchSection[];
  /** The strategies the first-counterexample section ran (older files: every strategy). */
  firstCounterexampleStrategies: string[];
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
  /** Exhaustive searches past the default bound that notebook 02 cites (bench_bounds.ts); absent from older files. */
  exhaustiveAtLargerBounds: Record<string, LargerBoundFigure>;
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

export function runBench(opts: BenchOptions = {}): BenchResult {
  const log = opts.log ?? (() => {});
  const window = opts.quick ? 250 : 1500;
  const sections = benchSections(opts.only);
  const runs = (x: BenchSection) => sections.includes(x);
  const strategies = opts.allStrategies ? STRATEGY_NAMES : STRATEGY_NAMES.slice(0, 1);
  const res: BenchResult = {
    sections,
    firstCounterexampleStrategies: runs("first-counterexample") ? [...strategies] : [],
    executionsPerSecond: {},
    stepsPerExecution: {},
    nsPerStep: {},
    dfsExecutionsPerSecond: {},
    reductionFactor: {},
    reductionDetail: {},
    timeToFirstCounterexampleMs: {},
    timeToFirstCounterexampleByStrategyMs: {},
    timedStepsPerSecond: 0,
    exhaustiveAtLargerBounds: {},
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "?", node: process.version },
    date: new Date().toISOString(),
  };
  log(`flushlab bench (${res.machine.cpus} cores, ${res.machine.model}, node ${res.machine.node}), one core`);
  if (runs("throughput")) throughput(res, window, log);
  if (runs("reduction")) reduction(res, opts.quick === true, log);
  if (runs("first-counterexample")) firstCounterexample(res, strategies, log);
  if (runs("timed")) timed(res, opts.quick === true, log);
  if (runs("larger-bounds")) res.exhaustiveAtLargerBounds = largerBounds(log);
  if (runs("parallel")) Object.assign(res, { parallel: runBenchParallel({ quick: opts.quick, log }) }); // bench_parallel.ts
  if (runs("speed")) Object.assign(res, { speed: runSpeedBench({ quick: opts.quick, log }) });
  if (runs("thp-walk-irq")) benchThpWalkIrq({ quick: opts.quick, log, dir: opts.dir });
  if (runs("scale")) Object.assign(res, { scale: runScale({ quick: opts.quick, log }) }); // bench_scale.ts
  if (runs("memory")) Object.assign(res, { memory: runMemoryBench({ quick: opts.quick, log }) }); // bench_memory.ts
  const dir = opts.dir ?? path.join(process.cwd(), "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  // A partial run has its own file: latest.json keeps the last whole run's figures.
  const file = opts.only ? `${sections.join("+")}.json` : "latest.json";
  fs.writeFileSync(path.join(dir, file), JSON.stringify(res, null, 2) + "\n");
  log(`\nsaved ${path.relative(process.cwd(), path.join(dir, file))}`);
  return res;
}

type Log = (s: string) => void;

function throughput(res: BenchResult, window: number, log: Log): void {
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
}

function reduction(res: BenchResult, quick: boolean, log: Log): void {
  log("\nreduction factor (plain DFS / DPOR executions, both exhaustive, no preemption bound):");
  const fixed: [string, string, Record<string, unknown>][] = [
    ["lost-update", "racy", { cpus: 3, iterations: 2 }],
    ["lazy-mmu-batch", "before", { store: false }],
  ];
  for (const [id, v, params] of quick ? fixed.slice(0, 1) : fixed) {
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
}

function firstCounterexample(res: BenchResult, strategies: readonly StrategyName[], log: Log): void {
  for (const strategy of strategies) {
    log(`\ntime to first minimised counterexample (${strategy}, default bounds):`);
    const times: Record<string, number> = (res.timeToFirstCounterexampleByStrategyMs[strategy] = {});
    // The sampling strategies only where DFS found one (elsewhere they would spend their whole budget).
    const which =
      strategy === STRATEGY_NAMES[0]
        ? pairs().filter(([s]) => modesOf(s).includes("search"))
        : pairs().filter(([s, v]) => `${s.id}/${v}` in res.timeToFirstCounterexampleMs);
    for (const [s, v] of which) {
      const r = explore(s, { variant: v, strategy, timeLimitMs: 20_000 });
      if (!r.violation) {
        // Where the section's time goes: a search that finds nothing runs to exhaustion or to its budget.
        log(
          `  ${`${s.id}/${v}`.padEnd(36)} none in ${r.elapsedMs} ms (${r.exhaustive ? "exhausted" : "budget ran out"})`,
        );
        continue;
      }
      times[`${s.id}/${v}`] = r.elapsedMs;
      if (strategy === STRATEGY_NAMES[0]) res.timeToFirstCounterexampleMs[`${s.id}/${v}`] = r.elapsedMs;
      log(
        `  ${`${s.id}/${v}`.padEnd(36)} ${r.elapsedMs} ms  (${r.violation.invariant}, ${r.violation.preemptions} preemption(s), ${r.violation.steps} steps)`,
      );
    }
  }
  if (strategies.length < STRATEGY_NAMES.length)
    log(`  (${STRATEGY_NAMES.filter((x) => !strategies.includes(x)).join(", ")} too: --all-strategies)`);
}

function timed(res: BenchResult, quick: boolean, log: Log): void {
  const tr = runTimed("lost-update", {
    variant: "spinlock",
    params: { cpus: 8, iterations: quick ? 20_000 : 200_000 },
  });
  res.timedStepsPerSecond = Math.round(tr.steps / (tr.wallMs / 1000));
  log(`\ntimed mode: ${tr.steps} steps in ${tr.wallMs.toFixed(0)} ms = ${res.timedStepsPerSecond} steps/s`);
}
