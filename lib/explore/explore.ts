// The explorer's front door: search a scenario for a violation (DFS with DPOR, PCT, or a random walk), minimise
// what it finds (fewest preemptions, then fewest steps) and report it with its schedule string and trace;
// replay a schedule string on a fresh machine.

import type { Violation, TraceStep } from "../sim/trace";
import type { Machine, ViolationInfo } from "../sim/machine";
import { ModelError } from "../sim/machine";
import { AnyScenario, Session, SessionOptions } from "./scenario";
import { Registry, resolveScenario } from "./registry";
import { runExecution } from "./exec";
import type { Found, SearchStats } from "./strategy";
import { STRATEGIES, STRATEGY_NAMES, StrategyName, isStrategyName } from "./strategies/index";
import { dfs } from "./strategies/dfs";
import { ReplayPicker } from "./strategies/replay";
import { Decision, ScheduleError, decodeSchedule, encodeSchedule } from "./schedule";
import { estimateOf, type Estimate } from "./estimate";
import { STATE_CACHE_MODES, type StateCacheMode } from "./state_cache";
import { searchScaled, jobsOf, type ScaledOutcome } from "./scaled";

export interface ExploreProgress {
  strategy: StrategyName | "minimise";
  executions: number;
  elapsedMs: number;
  found: boolean;
  /** DFS: executions and time left, from the search's branching so far (estimate.ts); null until known. */
  estimate?: Estimate | null;
}

export interface ExploreOptions<D extends AnyScenario = AnyScenario> extends SessionOptions<D> {
  strategy?: StrategyName;
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
  /** Where a scenario id is looked up (default: the default registry). */
  registry?: Registry;
  /** Worker threads (default 1; "auto": the cores), with the same verdict as one (parallel.ts). */
  jobs?: number | "auto";
  /** Report which step sites of the installed functions the search reached (coverage.ts). */
  coverage?: boolean;
  /** Count the distinct terminal states reached (terminal.ts). */
  terminalStates?: boolean;
  /**
   * DFS without a preemption bound: never explore a state twice (stateful DPOR, state_cache.ts), with a table
   * of at most this many MB (true: 1024). Sound, off by default: slower than the stateless search today.
   * `{ mode: "bitstate" }`: states as bits in a fixed array of maxMemoryMb (default 64), which may miss a state
   * (stats.stateCache.missProbability says how likely).
   */
  stateCache?: boolean | number | { maxMemoryMb?: number; mode?: StateCacheMode };
}

export interface ExploreResult {
  scenario: string;
  variant: string;
  strategy: StrategyName | "replay";
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
  stats: SearchStats & { minimiseMs?: number };
  /** With `coverage`: the step sites reached. With `jobs`: how the search was spread. */
  coverage?: ScaledOutcome["coverage"];
  parallel?: ScaledOutcome["parallel"];
  terminalStates?: number | null;
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

function packageViolation(
  session: Session,
  v: ViolationInfo,
  decisions: Decision[],
  trace: TraceStep[],
  preemptions: number,
): Violation {
  // Only functions a user can look up or override: the session's installed table (no hardware, no sites).
  const functions: string[] = [];
  for (const t of trace) if (t.fn in session.k.installed && !functions.includes(t.fn)) functions.push(t.fn);
  const schedule = encodeSchedule(
    { scenario: session.def.id, variant: session.variant, fingerprint: session.fingerprint },
    decisions,
  );
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
      if (
        e.violation &&
        e.violation.invariant === target &&
        (e.steps < best.steps || (e.steps === best.steps && e.preemptions < best.preemptions))
      ) {
        best = { info: e.violation, decisions: e.decisions(), steps: e.steps, preemptions: e.preemptions };
      }
    },
  });
  return best;
}

/** Search `scenario` (a definition, or an id in the registry) for a violation. */
export function explore<D extends AnyScenario>(scenario: D, opts?: ExploreOptions<D>): ExploreResult;
export function explore(scenario: string, opts?: ExploreOptions): ExploreResult;
export function explore(scenario: AnyScenario | string, opts: ExploreOptions = {}): ExploreResult {
  const def = resolveScenario(scenario, opts.registry);
  const strategy = opts.strategy ?? STRATEGY_NAMES[0];
  if (!isStrategyName(strategy))
    throw new ModelError(`unknown strategy "${String(strategy)}" (${STRATEGY_NAMES.join(", ")})`);
  checkCount("preemptions", opts.preemptions, 0, true);
  checkCount("depth", opts.depth, 1);
  checkCount("maxExecutions", opts.maxExecutions, 1, true);
  checkCount("maxSteps", opts.maxSteps, 1);
  checkCount("seed", opts.seed, 0);
  if (opts.timeLimitMs !== undefined && !(opts.timeLimitMs > 0))
    throw new ModelError(`timeLimitMs must be positive, got ${opts.timeLimitMs}`);
  const session = new Session(def, opts);
  const [stateCacheMb, stateCacheMode] = stateCacheOf(opts, strategy, session.bounds.preemptions);
  const maxSteps = opts.maxSteps ?? session.bounds.maxSteps;
  const timeLimitMs = opts.timeLimitMs ?? 60_000;
  const t0 = performance.now();
  const progress = (
    executions: number,
    found = false,
    s: ExploreProgress["strategy"] = strategy,
    fraction?: number,
  ) => {
    const elapsedMs = performance.now() - t0;
    const estimate = fraction !== undefined ? estimateOf(executions, fraction, elapsedMs) : null;
    opts.onProgress?.({ strategy: s, executions, elapsedMs, found, estimate });
  };
  const searchOptions = {
    preemptions: opts.preemptions ?? session.bounds.preemptions,
    reduce: opts.reduce ?? true,
    depth: opts.depth ?? session.bounds.depth,
    maxSteps,
    maxExecutions: opts.maxExecutions,
    deadline: t0 + timeLimitMs,
    seed: opts.seed ?? 1,
    ...(stateCacheMb !== undefined ? { stateCacheMb, stateCacheMode } : {}),
    onProgress: (n: number, fraction?: number) => progress(n, false, strategy, fraction),
  };
  const scaled = runsInParts(opts) ? searchScaled(session, strategy, searchOptions, opts) : null;
  const out = scaled ? scaled.outcome : STRATEGIES[strategy].search(session, searchOptions);
  const found = out.found;
  const stats: ExploreResult["stats"] = out.stats;
  let violation: Violation | null = null;
  if (found) {
    progress(out.executions, true);
    const tm = performance.now();
    const best =
      opts.minimise === false
        ? found
        : minimise(session, found, maxSteps, Math.max(200, Math.min(5000, timeLimitMs / 4)));
    stats.minimiseMs = Math.round(performance.now() - tm);
    violation = buildViolation(session, best.decisions, maxSteps);
    if (!violation) throw new Error(`internal: violation ${found.info.invariant} did not reproduce on replay`);
  }
  return {
    scenario: def.id,
    variant: session.variant,
    strategy,
    bounds: { ...out.bounds, maxSteps, timeLimitMs },
    executions: out.executions,
    exhaustive: found ? false : out.exhaustive,
    elapsedMs: Math.round(performance.now() - t0),
    violation,
    stats,
    ...(scaled ? { coverage: scaled.coverage, parallel: scaled.parallel, terminalStates: scaled.terminalStates } : {}),
  };
}

/** More than a verdict (workers, coverage, terminal states): the search runs in parts (scaled.ts). */
function runsInParts(opts: ExploreOptions): boolean {
  return jobsOf(opts.jobs) > 1 || opts.coverage === true || opts.terminalStates === true;
}

/** The state cache's budget in MB and its mode, or undefined; refused where the cache cannot run. */
function stateCacheOf(
  opts: ExploreOptions,
  strategy: StrategyName,
  defaultBound: number,
): [number | undefined, StateCacheMode] {
  const sc = opts.stateCache;
  if (sc === undefined || sc === false) return [undefined, "compact"];
  if (typeof sc === "object") {
    const bad = Object.keys(sc).filter((x) => x !== "maxMemoryMb" && x !== "mode");
    if (bad.length > 0) throw new ModelError(`stateCache takes maxMemoryMb and mode, not ${bad.join(", ")}`);
  }
  const mode = typeof sc === "object" ? (sc.mode ?? "compact") : "compact";
  if (!STATE_CACHE_MODES.includes(mode))
    throw new ModelError(`stateCache.mode must be one of ${STATE_CACHE_MODES.join(", ")}, got ${String(mode)}`);
  // a bit array is allocated whole up front: a smaller default (Spin's -w29)
  const mb = sc === true ? 1024 : typeof sc === "object" ? (sc.maxMemoryMb ?? (mode === "bitstate" ? 64 : 1024)) : sc;
  if (!(Number.isInteger(mb) && mb >= 1))
    throw new ModelError(`stateCache must be true or a whole number of MB ≥ 1 (maxMemoryMb), got ${mb}`);
  if (strategy !== "dfs") throw new ModelError(`stateCache applies to the dfs strategy, not ${strategy}`);
  if ((opts.preemptions ?? defaultBound) !== Infinity)
    throw new ModelError(
      "stateCache needs an unbounded search (preemptions: Infinity): a preemption bound breaks state matching",
    );
  if (opts.reduce === false) throw new ModelError("stateCache works with partial-order reduction (reduce: true)");
  if (runsInParts(opts)) throw new ModelError("stateCache runs in one thread, without coverage or terminal states");
  return [mb, mode];
}

export interface ReplayOptions<D extends AnyScenario = AnyScenario> extends SessionOptions<D> {
  schedule: string;
  maxSteps?: number;
  /** Stop after this many steps and hand back the machine there (for inspection beside the timeline). */
  stopAt?: number;
  /** Where a scenario id is looked up (default: the default registry). */
  registry?: Registry;
}

export interface ReplayResult extends ExploreResult {
  trace: TraceStep[];
  /** The machine at the end of the replay (or at `stopAt`). */
  machine: Machine;
  /** The scenario's observation of the final state, when the replay ran to the end without a violation. */
  observation: string | null;
}

/** Replay a schedule string on a fresh machine. */
export function replay<D extends AnyScenario>(scenario: D, opts: ReplayOptions<D>): ReplayResult;
export function replay(scenario: string, opts: ReplayOptions): ReplayResult;
export function replay(scenario: AnyScenario | string, opts: ReplayOptions): ReplayResult {
  const def = resolveScenario(scenario, opts.registry);
  const { header, decisions } = decodeSchedule(opts.schedule);
  if (header.scenario !== def.id)
    throw new ScheduleError(`schedule is for scenario "${header.scenario}", not "${def.id}"`);
  const variant = opts.variant ?? header.variant;
  if (header.variant !== variant)
    throw new ScheduleError(`schedule is for variant "${header.variant}", not "${variant}"`);
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
  const violation = out.violation
    ? packageViolation(session, out.violation, out.decisions, out.trace!, out.preemptions)
    : null;
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
