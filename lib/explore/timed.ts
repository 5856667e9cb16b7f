// Timed mode: a discrete-event scheduler that always runs the CPU whose virtual clock is earliest, charging
// each step its cost from the cost model. A CPU whose task cannot run (spinning on a lock, waiting for IPI
// handlers or a grace period) is carried along with time and its wait accounted. Metrics are counters and
// latency samples, ready to plot.

import type { Machine } from "../sim/machine";
import { CostModel, costModel } from "../sim/cost";
import { allEvents } from "../sim/event";
import { AnyScenario, Session, SessionOptions } from "./scenario";
import { Registry, resolveScenario } from "./registry";
import { judgeEnd, livelock } from "./exec";
import type { ViolationInfo } from "../sim/machine";

export interface TimedOptions<D extends AnyScenario = AnyScenario> extends SessionOptions<D> {
  costs?: Partial<CostModel>;
  maxSteps?: number;
  /** Where a scenario id is looked up (default: the default registry). */
  registry?: Registry;
}

export interface SampleStats {
  n: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
  values: number[];
}

export interface TimedResult {
  scenario: string;
  variant: string;
  /** Virtual time when the last CPU finished, ns. */
  makespanNs: number;
  steps: number;
  counters: Record<string, number>;
  samples: Record<string, SampleStats>;
  /** Per CPU: virtual time spent waiting (not runnable), ns. */
  waitNs: number[];
  violation: ViolationInfo | null;
  /** Wall time of the run, without building the machine. */
  wallMs: number;
  /** Wall time spent building the machine (setup). */
  setupMs: number;
}

function stats(values: number[]): SampleStats {
  const s = [...values].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    n: s.length,
    mean: s.length ? sum / s.length : 0,
    p50: s.length ? q(0.5) : 0,
    p99: s.length ? q(0.99) : 0,
    max: s.length ? s[s.length - 1] : 0,
    values,
  };
}

/** Run one execution of a scenario in virtual time. */
export function runTimed<D extends AnyScenario>(scenario: D, opts?: TimedOptions<D>): TimedResult;
export function runTimed(scenario: string, opts?: TimedOptions): TimedResult;
export function runTimed(scenario: AnyScenario | string, opts: TimedOptions = {}): TimedResult {
  const def = resolveScenario(scenario, opts.registry);
  const session = new Session(def, opts);
  const costs = costModel(opts.costs);
  const maxSteps = opts.maxSteps ?? 50_000_000;
  const evCost = new Float64Array(allEvents().length + 1024);
  for (const e of allEvents()) evCost[e.id] = costs[e.cost] ?? costs.mem;
  const tSetup = performance.now();
  const m: Machine = session.fresh();
  const t0 = performance.now();
  m.timed = true;
  m.ipiLatency = costs.ipi;
  m.gpLatency = costs.rcu_gp;
  const ncpu = m.ncpu;
  const wait = new Array<number>(ncpu).fill(0);
  const clock = m.clock;
  const nproc = m.ctxs.length;
  for (;;) {
    if (m.violation) break;
    // One pass: the enabled context whose CPU is earliest, and the tasks that cannot run.
    let best = -1;
    let bestT = Infinity;
    let blocked = 0;
    for (let p = 0; p < nproc; p++) {
      if (!m.isEnabled(p)) {
        if ((p & 1) === 0 && !m.ctxs[p].done) blocked |= 1 << (p >> 1);
        continue;
      }
      const c = m.ctxs[p];
      let t = clock[c.cpu];
      if (c.irq && c.gen === null) t = Math.max(t, m.irqReadyAt(c.cpu));
      if (t < bestT) {
        bestT = t;
        best = p;
      }
    }
    if (best < 0) {
      judgeEnd(m, session);
      break;
    }
    if (m.steps >= maxSteps) {
      livelock(m, maxSteps);
      break;
    }
    // CPUs whose task is stuck waiting move along with time, and the wait is accounted.
    for (let b = blocked; b !== 0; b &= b - 1) {
      const cpu = 31 - Math.clz32(b & -b);
      if (clock[cpu] < bestT) {
        wait[cpu] += bestT - clock[cpu];
        clock[cpu] = bestT;
      }
    }
    // The step occupies [t, t + cost): its code runs at completion, so k.now() inside it is the end time.
    const c = m.ctxs[best];
    if (clock[c.cpu] < bestT) clock[c.cpu] = bestT;
    const e = c.ev;
    clock[c.cpu] += e.id < evCost.length ? evCost[e.id] : (costs[e.cost] ?? costs.mem);
    m.step(best);
  }
  const counters: Record<string, number> = {};
  for (const [k, v] of m.counters) counters[k] = v;
  const samples: Record<string, SampleStats> = {};
  for (const [k, v] of m.samples) samples[k] = stats(v);
  let makespan = 0;
  for (let c = 0; c < ncpu; c++) makespan = Math.max(makespan, clock[c]);
  return {
    scenario: def.id,
    variant: session.variant,
    makespanNs: makespan,
    steps: m.steps,
    counters,
    samples,
    waitNs: wait,
    violation: m.violation,
    wallMs: performance.now() - t0,
    setupMs: t0 - tSetup,
  };
}
