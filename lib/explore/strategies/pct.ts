// PCT, probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi & Nagarakatte, ASPLOS 2010): random
// distinct priorities for the n contexts and d−1 priority-change points among the first k steps; always run the
// highest-priority runnable context. A bug of depth d is found by one execution with probability at least
// 1/(n·k^(d−1)).

import type { Machine } from "../../sim/machine";
import type { SearchOptions, SearchOutcome, SearchStrategy, Strategy } from "../strategy";
import type { Session } from "../scenario";
import { Rng } from "../rng";
import { sample, SAMPLE_EXECUTIONS } from "./sample";

/** One PCT execution: priorities and change points drawn from `seed`. */
export class PctPicker implements Strategy {
  private readonly prio: number[] = [];
  private readonly change: number[] = [];
  private readonly rng: Rng;
  private step = 0;

  /** procs: explorer processes of the machine; k: steps of the longest execution seen; d: depth. */
  constructor(seed: number, procs: number, k: number, d: number) {
    this.rng = new Rng(seed);
    // Initial priorities d .. d+procs-1, in random order (Fisher-Yates); contexts that never run do not
    // change the relative order of those that do, so the bound holds with n = contexts that run.
    const pr: number[] = [];
    for (let i = 0; i < procs; i++) pr.push(d + i);
    for (let i = procs - 1; i > 0; i--) {
      const j = this.rng.below(i + 1);
      [pr[i], pr[j]] = [pr[j], pr[i]];
    }
    this.prio = pr;
    for (let i = 0; i < d - 1; i++) this.change.push(1 + this.rng.below(Math.max(1, k)));
  }

  pick(_m: Machine, enabled: number, _last: number): number {
    let best = -1;
    let bestPrio = -Infinity;
    for (let p = 0; p < 32; p++) {
      if ((enabled & (1 << p)) === 0) continue;
      const pr = p < this.prio.length ? this.prio[p] : 0;
      if (pr > bestPrio) {
        bestPrio = pr;
        best = p;
      }
    }
    this.step++;
    // At the i-th change point the chosen context drops to priority i (below every initial priority).
    for (let i = 0; i < this.change.length; i++) {
      if (this.change[i] === this.step && best < this.prio.length) this.prio[best] = i + 1;
    }
    return best;
  }

  choose(n: number): number {
    return this.rng.below(n);
  }
}

/** The PCT guarantee for one execution: 1/(n·k^(d−1)). */
export function pctBound(n: number, k: number, d: number): number {
  return 1 / (n * Math.pow(Math.max(1, k), d - 1));
}

/** `--strategy pct`: PCT executions of depth d, each with its own priorities, until a violation or the budget. */
export const pctSearch: SearchStrategy = {
  name: "pct",
  summary: "probabilistic concurrency testing: random priorities and d-1 change points, with a per-execution guarantee",
  search(session: Session, o: SearchOptions): SearchOutcome {
    const r = sample(session, o, (seed, first, k) => new PctPicker(seed, first.ctxs.length, k, o.depth));
    return {
      found: r.found,
      executions: r.executions,
      exhaustive: false,
      stats: {
        sleepBlocked: 0,
        prunedByBound: 0,
        longestExecution: r.longest,
        contexts: r.contexts,
        guarantee: pctBound(r.contexts, r.longest, o.depth),
      },
      bounds: { preemptions: null, depth: o.depth, maxExecutions: o.maxExecutions ?? SAMPLE_EXECUTIONS, seed: o.seed },
    };
  },
};
