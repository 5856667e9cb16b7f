// A search strategy, as the explorer's one step loop (exec.ts) drives it (shuttle's Scheduler): told when an
// execution begins, asked which context runs at each state and what each choose() returns, told after each
// step and when the execution ends. DFS+DPOR keeps its race analysis in afterStep; PCT, the random walk and
// replay only pick. Only pick and choose are required, so `{ pick, choose }` is a strategy.

import type { Machine, ViolationInfo } from "../sim/machine";
import type { Decision } from "./schedule";
import type { Session } from "./scenario";
import type { StateCacheMode } from "./state_cache";

/** How an execution ended. */
export interface ExecEnd {
  /** The violation it reached (deadlock and livelock included), or null. */
  violation: ViolationInfo | null;
  steps: number;
  /** The strategy ended it early (pick returned -1): not a complete execution. */
  abandoned: boolean;
}

export interface Strategy {
  /**
   * A fresh machine is ready; the execution starts. May return how many first steps replay decisions the
   * strategy took in an earlier execution (DFS's prefix): the loop asks pick for those with `enabled` = -1
   * (not computed: the step is known to be runnable) and judges nothing before the prefix ends.
   */
  beginExecution?(m: Machine): number | void;
  /** The strategy watches calls and returns (m.callHook): build machines on the session's traced kernel. */
  readonly traced?: boolean;
  /**
   * The context to run among `enabled` (a bit mask, never 0; -1 inside a replayed prefix); `last` ran the
   * previous step (-1 at start). Return -1 to abandon the execution here (DFS: every runnable context asleep,
   * or over the preemption bound).
   */
  pick(m: Machine, enabled: number, last: number): number;
  /** The value of a choose(n) point, in [0, n). */
  choose(n: number): number;
  /** Context `p` has taken a step (`m.steps` counts it); `m.violation` is set if it broke an invariant. */
  afterStep?(m: Machine, p: number): void;
  /** The execution is over. */
  endExecution?(m: Machine, end: ExecEnd): void;
}

/** The old name of a strategy that only picks. */
export type Picker = Strategy;

/** A violation a search found, before minimising. */
export interface Found {
  info: ViolationInfo;
  decisions: Decision[];
  steps: number;
  preemptions: number;
}

/** What explore() hands a search strategy, resolved from its options and the scenario's bounds. */
export interface SearchOptions {
  /** DFS: preemption bound (Infinity: none). */
  preemptions: number;
  /** DFS: partial-order reduction. */
  reduce: boolean;
  /** PCT: bug depth d. */
  depth: number;
  maxSteps: number;
  /** Executions allowed (undefined: the strategy's default). */
  maxExecutions?: number;
  /** performance.now() value after which the search stops. */
  deadline: number;
  seed: number;
  /** DFS without a bound, with reduction: a state cache of this many MB (state_cache.ts; undefined: none). */
  stateCacheMb?: number;
  /** The state cache's table: a fingerprint per state (default) or bits in a fixed array (state_cache.ts). */
  stateCacheMode?: StateCacheMode;
  /** Called now and then with the executions so far (DFS: and the fraction of its tree done, estimate.ts). */
  onProgress(executions: number, fraction?: number): void;
}

export interface SearchStats {
  /** DFS: executions cut short because they repeated an explored ordering. */
  sleepBlocked: number;
  /** DFS: branches cut by the preemption bound. */
  prunedByBound: number;
  /** Steps in the longest execution seen. */
  longestExecution: number;
  /** DFS under a finite bound: executions of the searches at lower bounds run first (included in executions). */
  lowerBoundExecutions?: number;
  /** DFS with a state cache: executions cut at an explored state, states stored, the chance one was missed. */
  stateCache?: { mode: StateCacheMode; hits: number; states: number; bytes: number; missProbability: number };
  /** PCT: the number of contexts n used for the guarantee. */
  contexts?: number;
  /** PCT: per-execution probability bound 1/(n·k^(d−1)). */
  guarantee?: number;
}

export interface SearchOutcome {
  found: Found | null;
  executions: number;
  /** The bounded space was searched to the end. */
  exhaustive: boolean;
  stats: SearchStats;
  /** The bounds that applied (null: not this strategy's). */
  bounds: { preemptions: number | null; depth: number | null; maxExecutions: number | null; seed: number | null };
}

/** A search strategy as explore() and the CLI select it by name (strategies/index.ts lists them). */
export interface SearchStrategy {
  readonly name: string;
  /** One line for `flushlab --help` and docs. */
  readonly summary: string;
  search(session: Session, o: SearchOptions): SearchOutcome;
}
