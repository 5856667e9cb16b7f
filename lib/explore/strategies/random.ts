// Seeded random walk: each step runs a uniformly chosen runnable context.

import type { Machine } from "../../sim/machine";
import type { SearchOptions, SearchOutcome, SearchStrategy, Strategy } from "../strategy";
import type { Session } from "../scenario";
import { Rng } from "../rng";
import { sample, SAMPLE_EXECUTIONS } from "./sample";

/** One random walk: the same seed gives the same schedule. */
export class RandomPicker implements Strategy {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  pick(_m: Machine, enabled: number): number {
    let n = 0;
    for (let x = enabled; x !== 0; x &= x - 1) n++;
    let k = this.rng.below(n);
    for (let p = 0; p < 32; p++) {
      if ((enabled & (1 << p)) !== 0 && k-- === 0) return p;
    }
    return -1;
  }
  choose(n: number): number {
    return this.rng.below(n);
  }
}

/** `--strategy random`: random walks, one seed each, until a violation or the budget. */
export const randomSearch: SearchStrategy = {
  name: "random",
  summary: "random walks: each step runs a uniformly chosen runnable context (seeded)",
  search(session: Session, o: SearchOptions): SearchOutcome {
    const r = sample(session, o, (seed) => new RandomPicker(seed));
    return {
      found: r.found,
      executions: r.executions,
      exhaustive: false,
      stats: { sleepBlocked: 0, prunedByBound: 0, longestExecution: r.longest },
      bounds: { preemptions: null, depth: null, maxExecutions: o.maxExecutions ?? SAMPLE_EXECUTIONS, seed: o.seed },
    };
  },
};
