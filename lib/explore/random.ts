// Seeded random walk: each step runs a uniformly chosen runnable context.

import type { Machine } from "../sim/machine";
import type { Picker } from "./exec";
import { Rng } from "./rng";

export class RandomPicker implements Picker {
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
