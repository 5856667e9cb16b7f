// The smallest race there is: two CPUs increment a shared counter with a plain load and store, so one
// increment can overwrite the other. The `spinlock` variant takes a lock around the update and is clean.
// Not a kernel fix: the teaching scenario for the explorer itself (notebook 00).

import { defineScenario } from "../explore/scenario";
import { int } from "../explore/params";
import { simOps } from "../sim/index";
import type { Gen } from "../sim/machine";
import type { KernelBase } from "../sim/kernel";
import { Spinlock, spin_lock_init, spin_lock, spin_unlock } from "../sim/spinlock";
import { event } from "../sim/event";
import { defineSources } from "../sim/sources";

/** A shared counter: one object, read and written by plain loads and stores. */
export interface Counter {
  readonly id: number;
  v: number;
}

const E_LOAD = event("counter_inc", "load counter");
const E_STORE = event("counter_inc", "store counter + 1");

/** counter_inc: `x->v = x->v + 1` as the two steps the CPU really takes. */
export function* counter_inc(k: KernelBase, x: Counter, _lock: Spinlock): Gen {
  k.R(x, E_LOAD);
  yield;
  const v = x.v;
  k.W(x, E_STORE);
  yield;
  x.v = v + 1;
}

/** The fix: the same update under a spinlock. */
export function* counter_inc_locked(k: KernelBase, x: Counter, lock: Spinlock): Gen {
  yield* spin_lock(k, lock);
  yield* counter_inc(k, x, lock);
  yield* spin_unlock(k, lock);
}

defineSources(__dirname, { lost_update: { counter_inc, counter_inc_locked } });

export const lostUpdateOps = { ...simOps, counter_inc };

/** A thread doing n increments (timed workloads). Module-level: see lib/scenarios/lazy_mmu_batch.ts. */
function* increments(
  k: KernelBase & { counter_inc: (x: Counter, l: Spinlock) => Gen },
  x: Counter,
  lock: Spinlock,
  n: number,
): Gen {
  for (let i = 0; i < n; i++) yield* k.counter_inc(x, lock);
}

export const lostUpdateParams = {
  cpus: int(1, 15, 2, "CPUs, each running one incrementing thread"),
  iterations: int(1, 10_000_000, 1, "increments per thread"),
};

export const lostUpdate = defineScenario({
  id: "lost-update",
  modes: ["search", "timed"],
  title: "Lost update on a shared counter",
  description: "Two CPUs each increment a counter once; the final check says an increment was lost.",
  ops: lostUpdateOps,
  variants: { racy: {}, spinlock: { counter_inc: counter_inc_locked } },
  machine: (p) => ({ cpus: p.cpus }),
  params: lostUpdateParams,
  bounds: { preemptions: 2, depth: 2, maxSteps: 200 },
  setup(k, m, p) {
    const x: Counter = { id: m.newObj("counter"), v: 0 };
    const lock = spin_lock_init(m, "counter_lock");
    const total = p.cpus * p.iterations;
    for (let c = 0; c < p.cpus; c++) {
      m.spawn(c, `inc${c}`, p.iterations === 1 ? k.counter_inc(x, lock) : increments(k, x, lock, p.iterations));
    }
    return {
      final() {
        if (x.v !== total)
          k.violation("lost-update", `counter is ${x.v} after ${total} increments: an increment was overwritten`);
      },
      observe: () => `counter=${x.v}`,
    };
  },
});
