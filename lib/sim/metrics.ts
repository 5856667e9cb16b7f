// Virtual time and metrics for timed mode: a clock per CPU (ns), counters and latency samples. In search mode
// nothing is recorded and the maps stay the shared empty ones.

import { filled } from "./objects";

// Shared empty maps until timed mode records something (most executions never do).
const EMPTY_COUNTERS: Map<string, number> = new Map();
const EMPTY_SAMPLES: Map<string, number[]> = new Map();

export class Metrics {
  /** Per-CPU virtual clocks, ns. */
  readonly clock: number[];
  timed = false;
  counters: Map<string, number> = EMPTY_COUNTERS;
  samples: Map<string, number[]> = EMPTY_SAMPLES;

  constructor(ncpu: number) {
    this.clock = filled(ncpu);
  }

  count(name: string, n = 1): void {
    if (this.counters === EMPTY_COUNTERS) this.counters = new Map();
    this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  sample(name: string, value: number): void {
    if (this.samples === EMPTY_SAMPLES) this.samples = new Map();
    let a = this.samples.get(name);
    if (!a) this.samples.set(name, (a = []));
    a.push(value);
  }
}
