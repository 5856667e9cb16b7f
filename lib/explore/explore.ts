// The explorer's front door: search a scenario for a violation (DFS with DPOR, PCT, or a random walk), minimise
// what it finds (fewest preemptions, then fewest steps) and report it with its schedule string and trace;
// replay a schedule string on a fresh machine.

import type { Violation, TraceStep } from "../sim/trace";
import type { Machine, ViolationInfo } from "../sim/machine";
import { ModelError } from "../sim/machine";
import { ScenarioDef, Session, SessionOptions, getScenario } from "./scenario";
import { dfs, DfsResult } from "./dfs";
import { runExecution, serialPick, Picker } from "./exec";
import { PctPicker, pctBound } from "./pct";
import { RandomPicker } from "./random";
import { ReplayPicker } from "./replay";
import { Rng } from "./rng";
import { Decision, ScheduleError, decodeSchedule, encodeSchedule } from "./schedule";

export type Strategy = "dfs" | "pct" | "random";

export interface ExploreProgress {
  strategy: Strategy | "minimise";
  executions: number;
  elapsedMs: number;
  found: boolean;
}

export interface ExploreOptions extends SessionOptions {
  strategy?: Strategy;
  /** DFS: preemption bound (default: the scenario's); Infinity searches without one. */
  preemptions?: number;
  /** DFS: partial-order reduction on (default) or every interleaving. */
  reduce?: boolean;
  /** PCT: bug depth d (default: the scenario's). */
  depth?: number;
  maxExecutions?: number;
  timeLimitMs?: number;
  seed?: number;
  maxSteps?: number;
  /** Minimise a found violation (default true). */
  minimise?: boolean;
  onProgress?: (p: ExploreProgress) => void;
}

export interface ExploreResult {
  scenario: string;
  variant: string;
  strategy: Strategy | "replay";
  bounds: {
    preemptions: number | null;
    depth: number | null;
    maxSteps: number;
    maxExecutions: number | null;
    timeLimitMs: number | null;
    seed: number | null;
  };
  executions: number;
  /** The bounded space was searched to the end (DFS only). */
  exhaustive: boolean;
  elapsedMs: number;
  violation: Violation | null;
  stats: {
    /** DFS: executions cut short because they repeated an explored ordering. */
    sleepBlocked: number;
    /** DFS: branches cut by the preemption bound. */
    prunedByBound: number;
    /** Steps in the longest execution seen. */
    longestExecution: number;
    /** PCT: the number of contexts n used for the guarantee. */
    contexts?: number;
    /** PCT: per-execution probability bound 1/(n·k^(d−1)). */
    guarantee?: number;
    minimiseMs?: number;
  };
}

function resolve(s: string | ScenarioDef<any, any>): ScenarioDef<any, any> {
  return typeof s === "string" ? getScenario(s) : s;
}

function checkCount(name: string, v: number | undefined, min: number, allowInf = false): void {
  if (v === undefined) return;
  if (allowInf && v === Infinity) return;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new ModelError(`${name} must be an integer ≥ ${min}${allowInf ? " (or Infinity)" : ""}, got ${String(v)}`);
  }
}

/** Re-run `decisions` on a fresh machine with a trace, and package the violation it reaches. */
export function buildViolation(session: Session, decisions: readonly Decision[], maxSteps: number): Violation | null {
  const picker = new ReplayPicker(decisions);
  const out = runExecution(session, picker, { maxSteps, trace: true });
  if (!out.violation) return null;
  return packageViolation(session, out.violation, out.decisions, out.trace!, out.preemptions);
}

function packageViolation(session: Session, v: ViolationInfo, decisions: Decision[], trace: TraceStep[], preemptions: number): Violation {
  // Only functions a user can look up or override: the session's installed table (no hardware, no sites).
  const functions: string[] = [];
  for (const t of trace) if (t.fn in session.k.installed && !functions.includes(t.fn)) functions.push(t.fn);
  const schedule = encodeSchedule({ scenario: session.def.id, variant: session.variant, fingerprint: session.fingerprint }, decisions);
  return {
    invariant: v.invariant,
    message: v.message,
    schedule,
    steps: trace.length,
    preemptions,
    at: Math.min(v.step, trace.length - 1),
    functions,
    trace,
  };
}

interface Found {
  info: ViolationInfo;
  decisions: Decision[];
  steps: number;
  preemptions: number;
}

/**
 * Minimise a violation: the fewest preemptions that still reach the same invariant (bounded DFS at 0, 1, …),
 * then the fewest steps at that bound, within a budget.
 */
export function minimise(session: Session, found: Found, maxSteps: number, budgetMs: number): Found {
  const deadline = performance.now() + budgetMs;
  const target = found.info.invariant;
  let best = found;
  for (let b = 0; b < found.preemptions && performance.now() < deadline; b++) {
    const r = dfs(session, {
      reduce: true,
      preemptionBound: b,
      maxSteps,
      maxExecutions: Infinity,
      deadline: Math.min(deadline, performance.now() + budgetMs / 2),
      stopOnViolation: true,
      target,
    });
    if (r.violation) {
      best = r.violation;
      break;
    }
  }
  // Fewest steps at that preemption count.
  const shortDeadline = Math.min(deadline, performance.now() + budgetMs / 2);
  dfs(session, {
      reduce: true,
      preemptionBound: best.preemptions,
      maxSteps: best.steps,
      maxExecutions: Infinity,
      deadline: shortDeadline,
      stopOnViolation: false,
      onExecution: (e) => {
        if (e.violation && e.violation.invariant === target && (e.steps < best.steps || (e.steps === best.steps && e.preemptions < best.preemptions))) {
          best = { info: e.violation, decisions: e.decisions(), steps: e.steps, preemptions: e.preemptions };
        }
      },
  });
  return best;
}

/** Search `scenario` for a violation. */
export function explore(scenario: string | ScenarioDef<any, any>, opts: ExploreOptions = {}): ExploreResult {
  const def = resolve(scenario);
  const strategy = opts.strategy ?? "dfs";
  if (!["dfs", "pct", "random"].includes(strategy)) throw new ModelError(`unknown strategy "${strategy}" (dfs, pct, random)`);
  checkCount("preemptions", opts.preemptions, 0, true);
  checkCount("depth", opts.depth, 1);
  checkCount("maxExecutions", opts.maxExecutions, 1, true);
  checkCount("maxSteps", opts.maxSteps, 1);
  checkCount("seed", opts.seed, 0);
  if (opts.timeLimitMs !== undefined && !(opts.timeLimitMs > 0)) throw new ModelError(`timeLimitMs must be positive, got ${opts.timeLimitMs}`);
  const session = new Session(def, opts);
  const maxSteps = opts.maxSteps ?? session.bounds.maxSteps;
  const timeLimitMs = opts.timeLimitMs ?? 60_000;
  const seed = opts.seed ?? 1;
  const t0 = performance.now();
  const deadline = t0 + timeLimitMs;
  const progress = (executions: number, found = false, s: ExploreProgress["strategy"] = strategy) =>
    opts.onProgress?.({ strategy: s, executions, elapsedMs: performance.now() - t0, found });

  let found: Found | null = null;
  let executions = 0;
  let exhaustive = false;
  const stats: ExploreResult["stats"] = { sleepBlocked: 0, prunedByBound: 0, longestExecution: 0 };
  let preemptions: number | null = null;
  let depth: number | null = null;
  let maxExecutions: number | null = null;

  if (strategy === "dfs") {
    preemptions = opts.preemptions ?? session.bounds.preemptions;
    maxExecutions = opts.maxExecutions ?? Infinity;
    const r: DfsResult = dfs(session, {
      reduce: opts.reduce ?? true,
      preemptionBound: preemptions,
      maxSteps,
      maxExecutions,
      deadline,
      stopOnViolation: true,
      onProgress: (n) => progress(n),
    });
    executions = r.executions;
    exhaustive = r.exhaustive;
    stats.sleepBlocked = r.sleepBlocked;
    stats.prunedByBound = r.pruned;
    stats.longestExecution = r.maxSteps;
    if (r.violation) found = r.violation;
  } else {
    maxExecutions = opts.maxExecutions ?? 10_000;
    // The first execution is serial; it also measures k (steps) and n (contexts) for PCT.
    let k = 0;
    let n = 0;
    const serial: Picker = { pick: (_m, en, last) => serialPick(en, last), choose: () => 0 };
    const first = runExecution(session, serial, { maxSteps });
    executions = 1;
    k = first.steps;
    n = countContexts(first.machine, first.decisions);
    if (first.violation) found = { info: first.violation, decisions: first.decisions, steps: first.steps, preemptions: first.preemptions };
    depth = strategy === "pct" ? opts.depth ?? session.bounds.depth : null;
    let lastReport = performance.now();
    // Each execution gets its own seed drawn from the user's, so runs with different seeds are independent.
    const seeds = new Rng(seed);
    while (!found && executions < maxExecutions && performance.now() < deadline) {
      const s = seeds.next();
      const picker: Picker = strategy === "pct" ? new PctPicker(s, first.machine.ctxs.length, k, depth!) : new RandomPicker(s);
      const out = runExecution(session, picker, { maxSteps });
      executions++;
      if (out.steps > k) k = out.steps;
      if (out.violation) found = { info: out.violation, decisions: out.decisions, steps: out.steps, preemptions: out.preemptions };
      if (performance.now() - lastReport > 100) {
        lastReport = performance.now();
        progress(executions);
      }
    }
    stats.longestExecution = k;
    if (strategy === "pct") {
      stats.contexts = n;
      stats.guarantee = pctBound(n, k, depth!);
    }
  }

  let violation: Violation | null = null;
  if (found) {
    progress(executions, true);
    const tm = performance.now();
    const best = opts.minimise === false ? found : minimise(session, found, maxSteps, Math.max(200, Math.min(5000, timeLimitMs / 4)));
    stats.minimiseMs = Math.round(performance.now() - tm);
    violation = buildViolation(session, best.decisions, maxSteps);
    if (!violation) throw new Error(`internal: violation ${found.info.invariant} did not reproduce on replay`);
  }
  return {
    scenario: def.id,
    variant: session.variant,
    strategy,
    bounds: { preemptions, depth, maxSteps, maxExecutions: maxExecutions === Infinity ? null : maxExecutions, timeLimitMs, seed: strategy === "dfs" ? null : seed },
    executions,
    exhaustive: found ? false : exhaustive,
    elapsedMs: Math.round(performance.now() - t0),
    violation,
    stats,
  };
}

/** Contexts that took at least one step (PCT's n). */
function countContexts(_m: Machine, decisions: readonly Decision[]): number {
  const seen = new Set<number>();
  for (const d of decisions) if (!d.choice) seen.add(d.value);
  return Math.max(1, seen.size);
}

export interface ReplayOptions extends SessionOptions {
  schedule: string;
  maxSteps?: number;
  /** Stop after this many steps and hand back the machine there (for inspection beside the timeline). */
  stopAt?: number;
}

export interface ReplayResult extends ExploreResult {
  trace: TraceStep[];
  /** The machine at the end of the replay (or at `stopAt`). */
  machine: Machine;
  /** The scenario's observation of the final state, when the replay ran to the end without a violation. */
  observation: string | null;
}

/** Replay a schedule string on a fresh machine. */
export function replay(scenario: string | ScenarioDef<any, any>, opts: ReplayOptions): ReplayResult {
  const def = resolve(scenario);
  const { header, decisions } = decodeSchedule(opts.schedule);
  if (header.scenario !== def.id) throw new ScheduleError(`schedule is for scenario "${header.scenario}", not "${def.id}"`);
  const variant = opts.variant ?? header.variant;
  if (header.variant !== variant) throw new ScheduleError(`schedule is for variant "${header.variant}", not "${variant}"`);
  const session = new Session(def, { ...opts, variant });
  if (header.fingerprint !== session.fingerprint) {
    throw new ScheduleError(
      `schedule was recorded on a different model (fingerprint ${header.fingerprint}, this model ${session.fingerprint}): ` +
        "the scenario, its parameters, or a modelled function changed since",
    );
  }
  checkCount("stopAt", opts.stopAt, 0);
  const maxSteps = opts.maxSteps ?? session.bounds.maxSteps;
  const t0 = performance.now();
  const out = runExecution(session, new ReplayPicker(decisions), { maxSteps, trace: true, stopAfter: opts.stopAt });
  const violation = out.violation ? packageViolation(session, out.violation, out.decisions, out.trace!, out.preemptions) : null;
  return {
    scenario: def.id,
    variant,
    strategy: "replay",
    bounds: { preemptions: null, depth: null, maxSteps, maxExecutions: 1, timeLimitMs: null, seed: null },
    executions: 1,
    exhaustive: false,
    elapsedMs: Math.round(performance.now() - t0),
    violation,
    stats: { sleepBlocked: 0, prunedByBound: 0, longestExecution: out.steps },
    trace: out.trace!,
    machine: out.machine,
    observation: out.observation,
  };
}

/** A stable hash of a trace (tests: same seed, same trace). */
export function traceHash(trace: readonly TraceStep[]): string {
  let h = 0x811c9dc5;
  for (const t of trace) {
    const s = `${t.proc}|${t.fn}|${t.what}|${t.obj}|${t.kind}|${(t.choices ?? []).join(",")};`;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h.toString(16).padStart(8, "0");
}
