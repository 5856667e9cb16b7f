// One deterministic part of a search, so a job engine (a Kubernetes Indexed Job, a Slurm array, a CI matrix) or
// this machine's worker threads can run the parts and merge them. DFS: branch fully (no DPOR backtrack sets;
// sleep sets still prune, as they depend only on the tree above) above a split depth d, number the prefixes
// that reach d in DFS order, give prefix j to shard j mod n, and search below d with DPOR and sleep sets; every
// shard sees the same prefix tree, so the union of the parts covers what the whole search covers. PCT and the random walk: the seed sequence, execution e to shard e mod n.

import type { Machine } from "../sim/machine";
import type { Session } from "./scenario";
import type { Found, Strategy, ExecEnd, SearchOptions } from "./strategy";
import { runExecution, serial } from "./exec";
import { dfsStrategy, dfsRun, boundsOf, DfsLeaf, DfsState } from "./strategies/dfs";
import { PctPicker } from "./strategies/pct";
import { RandomPicker } from "./strategies/random";
import { SAMPLE_EXECUTIONS } from "./strategies/sample";
import { Rng } from "./rng";
import { TerminalTracker, terminalHash } from "./terminal";
import { CoverageCounter } from "./coverage";
import { estimateOf, Estimate } from "./estimate";
import type { StrategyName } from "./strategies/index";

export interface ShardSpec {
  /** 0-based. */
  index: number;
  count: number;
}

/**
 * A part's settings: the search's (its `maxExecutions` is the whole search's: a sampling shard runs its share of
 * the seed sequence below it), less what a part reports its own way or cannot run (the state cache).
 */
export interface PartOptions extends Omit<SearchOptions, "onProgress" | "stateCacheMb"> {
  strategy: StrategyName;
  /** Stop at the part's first violation (default true). */
  stopOnViolation?: boolean;
  shard?: ShardSpec;
  /** DFS: the split depth (default: splitDepthFor). Every shard of one search must use the same. */
  splitDepth?: number;
  /** DFS under a bound: where a path with no preemption yet is split (default: firstDepthFor). */
  firstDepth?: number;
  /** DFS: which prefixes this part searches, overriding `shard` (the parallel search claims them live). */
  keep?: (prefix: number) => boolean;
  /** Collect the terminal states (terminal.ts) and the coverage (coverage.ts). */
  terminal?: boolean;
  coverage?: boolean;
  onProgress?: (p: PartProgress) => void;
  /** Polled at progress reports: true stops the part (Ctrl-C). */
  interrupted?: () => boolean;
}

export interface PartProgress {
  executions: number;
  elapsedMs: number;
  /** DFS only. */
  estimate: Estimate | null;
}

/** A violation with its place in the search's stable order: (prefix, ordinal within the prefix). */
export interface FoundAt extends Found {
  key: [number, number];
}

export interface PartResult {
  executions: number;
  /** The part searched everything it was given, without stopping at a violation. */
  exhaustive: boolean;
  /** DFS: prefixes at the split depth (the whole search's), and how many of them this part searched. */
  splitDepth: number | null;
  firstDepth: number | null;
  prefixes: number;
  searched: number;
  violations: FoundAt[];
  /** Invariant → violating executions. */
  violationCounts: Record<string, number>;
  terminalStates: Set<string>;
  /** Hits by `fn\0what` (coverage.ts). */
  coverage: Record<string, number>;
  sleepBlocked: number;
  prunedByBound: number;
  longestExecution: number;
  /** Parallel search: CPU time of the thread that ran this part (parallel.ts), start-up included. */
  cpuMs?: number | null;
  /** PCT/random: contexts that took a step in the serial execution (PCT's n). */
  contexts?: number;
  elapsedMs: number;
}

/** Violations kept per part (the first by the stable order is what a merge reports). */
export const KEEP_VIOLATIONS = 16;

/** Count a violation of `invariant` in r; keep it (built only then) while fewer than KEEP_VIOLATIONS are. */
export function keepViolation(r: PartResult, invariant: string, make: () => FoundAt): void {
  r.violationCounts[invariant] = (r.violationCounts[invariant] ?? 0) + 1;
  if (r.violations.length < KEEP_VIOLATIONS) r.violations.push(make());
}

/** Wraps a strategy to follow each step for terminal states and coverage. */
export function observed(inner: Strategy, tracker: TerminalTracker | null, cov: CoverageCounter | null): Strategy {
  if (!tracker && !cov) return inner;
  return {
    traced: inner.traced,
    beginExecution(m: Machine) {
      tracker?.begin(m);
      return inner.beginExecution ? inner.beginExecution(m) : 0;
    },
    pick: (m, en, last) => inner.pick(m, en, last),
    choose: (n) => inner.choose(n),
    afterStep(m: Machine, p: number) {
      tracker?.step(m, p);
      cov?.step(m);
      if (inner.afterStep) inner.afterStep(m, p);
    },
    endExecution(m: Machine, end: ExecEnd) {
      if (inner.endExecution) inner.endExecution(m, end);
    },
  };
}

/** Prefixes at depth d of the DFS tree (up to `cap`), numbered as every shard numbers them. */
export function countPrefixes(session: Session, o: PartOptions, d: number, cap: number, firstDepth = d): number {
  const s = dfsStrategy(session, {
    reduce: o.reduce,
    preemptionBound: o.preemptions,
    maxSteps: o.maxSteps,
    maxExecutions: Infinity,
    deadline: Infinity,
    stopOnViolation: false,
    split: { depth: d, keep: () => false, firstDepth },
  });
  while (!s.state.exhausted && s.state.prefixes < cap)
    runExecution(session, s, { maxSteps: o.maxSteps, record: false, observe: false });
  return s.state.prefixes;
}

/**
 * The split depth for `target` prefixes: the smallest depth with at least that many (deterministic, so every
 * shard computes the same), or the depth past which the count stops growing.
 */
export function splitDepthFor(session: Session, o: PartOptions, target: number): number {
  let prev = -1;
  for (let d = 1; d <= 64; d++) {
    const n = countPrefixes(session, o, d, target);
    if (n >= target || (n === prev && d > 8)) return d;
    prev = n;
  }
  return 64;
}

/**
 * Where a bounded search splits the path that has not preempted yet: that branch keeps its whole budget and
 * holds about half the tree at any shallow depth (lazy-mmu-batch 3 × 3: 51 % at depth 3, 35 % at 14), so past two
 * parts it is split deeper, at the price of full branching along it (at depth 3 + 40: 9 %, +85 % executions).
 */
export function firstDepthFor(depth: number, parts: number): number {
  return parts <= 2 ? depth : depth + Math.round(20 * Math.log2(parts / 2));
}

/** Prefixes a DFS shard search of `count` shards aims for: a few per shard, since subtrees differ in size. */
export const PREFIXES_PER_SHARD = 8;

/** Run one part of the search of `session`. */
export function runPart(session: Session, o: PartOptions): PartResult {
  const t0 = performance.now();
  const tracker = o.terminal ? new TerminalTracker() : null;
  const cov = o.coverage ? new CoverageCounter() : null;
  const r = o.strategy === "dfs" ? dfsPart(session, o, tracker, cov, t0) : samplePart(session, o, tracker, cov, t0);
  r.elapsedMs = Math.round(performance.now() - t0);
  if (cov) r.coverage = cov.named();
  return r;
}

export function emptyResult(): PartResult {
  return {
    executions: 0,
    exhaustive: false,
    splitDepth: null,
    firstDepth: null,
    prefixes: 0,
    searched: 0,
    violations: [],
    violationCounts: {},
    terminalStates: new Set(),
    coverage: {},
    sleepBlocked: 0,
    prunedByBound: 0,
    longestExecution: 0,
    elapsedMs: 0,
  };
}

function dfsPart(
  session: Session,
  o: PartOptions,
  tracker: TerminalTracker | null,
  cov: CoverageCounter | null,
  t0: number,
): PartResult {
  const r = emptyResult();
  const stop = o.stopOnViolation !== false;
  const sharded = o.shard !== undefined || o.keep !== undefined;
  const count = o.shard?.count ?? 1;
  const index = o.shard?.index ?? 0;
  const keep = o.keep ?? ((j: number) => j % count === index);
  const maxExecutions = o.maxExecutions ?? Infinity;
  // a part that does not stop at a violation searches the requested bound alone: it covers the lower ones
  const bounds = stop ? boundsOf(o.preemptions) : [o.preemptions];
  let lastReport = performance.now();
  let interrupted = false;
  let offset = 0; // prefixes numbered by the searches at lower bounds: violation keys go on from there
  let used = 0; // executions and sleep-blocked ones of the searches before, against maxExecutions
  // The default DFS's searches in turn (bounds 0, 1, then the requested one; dfs.ts's boundsOf), each split
  // the same way in every shard, each redone with the IPI-queue reads as dfs() redoes it (dfsRun).
  for (let level = 0; level < bounds.length; level++) {
    const last = level === bounds.length - 1;
    const lo: PartOptions = { ...o, preemptions: bounds[level] };
    const depth = sharded ? (o.splitDepth ?? splitDepthFor(session, lo, count * PREFIXES_PER_SHARD)) : null;
    const firstDepth = depth === null ? null : (o.firstDepth ?? firstDepthFor(depth, count));
    // what this search reported, dropped if it is redone with the IPI-queue reads
    const mark = { executions: r.executions, violations: r.violations.length, counts: { ...r.violationCounts } };
    let searched = 0;
    let lastPrefix = -1;
    let ordinal = 0;
    let st: DfsState | null = null;
    const onExecution = (e: DfsLeaf): void => {
      const prefix = depth === null ? 0 : st!.prefix;
      if (prefix !== lastPrefix) {
        lastPrefix = prefix;
        ordinal = 0;
        searched++;
      }
      r.executions++;
      if (e.violation) {
        const info = e.violation;
        keepViolation(r, info.invariant, () => ({
          info,
          decisions: e.decisions(),
          steps: e.steps,
          preemptions: e.preemptions,
          key: [offset + prefix, ordinal],
        }));
      } else if (tracker) r.terminalStates.add(tracker.stateOf(e.observation));
      ordinal++;
    };
    const restarted = (): void => {
      r.executions = mark.executions;
      r.violations.length = mark.violations;
      r.violationCounts = { ...mark.counts };
      searched = 0;
      lastPrefix = -1;
    };
    const s = dfsRun(
      session,
      {
        reduce: o.reduce,
        preemptionBound: bounds[level],
        maxSteps: o.maxSteps,
        maxExecutions: Infinity,
        deadline: o.deadline,
        stopOnViolation: stop,
        onExecution,
        ...(depth !== null ? { split: { depth, keep: (j: number) => keep(j), firstDepth: firstDepth! } } : {}),
      },
      (state) => {
        if (used + state.executions + state.sleepBlocked >= maxExecutions) return false;
        const now = performance.now();
        if (now > o.deadline) return false;
        if (now - lastReport > 100) {
          lastReport = now;
          if (o.interrupted?.()) {
            interrupted = true;
            return false;
          }
          o.onProgress?.({
            executions: r.executions,
            elapsedMs: now - t0,
            estimate: last ? estimateOf(r.executions, state.fraction(), now - t0) : null,
          });
        }
        return true;
      },
      restarted,
      false,
      (inner) => {
        st = inner.state;
        return observed(inner, tracker, cov);
      },
    );
    const fin = s.state;
    used += fin.executions + fin.sleepBlocked;
    r.splitDepth = depth;
    r.firstDepth = bounds[level] === Infinity ? depth : firstDepth;
    r.prefixes += fin.prefixes;
    r.searched += depth === null ? (level === 0 ? 1 : 0) : searched;
    r.sleepBlocked = fin.sleepBlocked;
    r.prunedByBound = fin.pruned;
    r.longestExecution = Math.max(r.longestExecution, fin.maxSeen);
    offset += fin.prefixes;
    if (interrupted || !fin.exhausted || (stop && fin.violation !== null)) break;
    r.exhaustive = last;
  }
  return r;
}

function samplePart(
  session: Session,
  o: PartOptions,
  tracker: TerminalTracker | null,
  cov: CoverageCounter | null,
  t0: number,
): PartResult {
  const r = emptyResult();
  const stop = o.stopOnViolation !== false;
  const count = o.shard?.count ?? 1;
  const index = o.shard?.index ?? 0;
  const maxExecutions = o.maxExecutions ?? SAMPLE_EXECUTIONS;
  const note = (e: number, out: ReturnType<typeof runExecution>): void => {
    r.executions++;
    if (out.steps > r.longestExecution) r.longestExecution = out.steps;
    if (out.violation) {
      const info = out.violation;
      keepViolation(r, info.invariant, () => ({
        info,
        decisions: out.decisions,
        steps: out.steps,
        preemptions: out.preemptions,
        key: [e, 0],
      }));
    } else if (tracker) r.terminalStates.add(tracker.stateOf(out.observation));
  };
  // Execution 0 is the serial one (it measures PCT's k and n): every shard runs it, shard 0 counts it.
  const first = runExecution(session, observed(serial, index === 0 ? tracker : null, index === 0 ? cov : null), {
    maxSteps: o.maxSteps,
  });
  if (index === 0) note(0, first);
  let k = first.steps;
  r.contexts = Math.max(1, new Set(first.decisions.filter((d) => !d.choice).map((d) => d.value)).size);
  const seeds = new Rng(o.seed);
  let lastReport = performance.now();
  for (let e = 1; e < maxExecutions; e++) {
    if (stop && r.violations.length > 0) break;
    const seed = seeds.next();
    if (e % count !== index) continue;
    const now = performance.now();
    if (now > o.deadline) break;
    if (now - lastReport > 100) {
      lastReport = now;
      if (o.interrupted?.()) break;
      o.onProgress?.({ executions: r.executions, elapsedMs: now - t0, estimate: null });
    }
    const picker: Strategy =
      o.strategy === "pct" ? new PctPicker(seed, first.machine.ctxs.length, k, o.depth) : new RandomPicker(seed);
    const out = runExecution(session, observed(picker, tracker, cov), { maxSteps: o.maxSteps });
    if (out.steps > k) k = out.steps;
    note(e, out);
  }
  return r;
}

export { terminalHash };
