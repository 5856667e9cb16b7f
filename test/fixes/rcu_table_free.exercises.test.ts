// Notebook 03's checkers: right answers pass, wrong ones fail with a hint, a missing one is "not attempted".

import { describe, it, expect } from "vitest";
import { checkGracePeriods, checkUnprotectedWalker } from "../../lib/fixes/rcu-table-free/exercises";
import { pt_entry_get_lockless } from "../../lib/mm/pt_entry";
import { PTE_LEVEL } from "../../lib/mm/mm_types";
import type { MmStruct, PtPage } from "../../lib/mm/mm_types";
import type { RK } from "../../lib/fixes/rcu-table-free/era";
import { event } from "../../lib/sim/event";
import type { Gen } from "../../lib/sim/machine";

const E = event("my_walk", "read table entry");

function* walk(k: RK, mm: MmStruct, ea: number): Gen<number> {
  let t: PtPage | null = mm.pgd;
  while (t !== null) {
    const e = yield* pt_entry_get_lockless(k, t, t.w.index(t.level, ea), "my_walk", E);
    if (e === undefined || e === 0) return 0;
    if (t.level === PTE_LEVEL) return e;
    t = t.w.child(e);
  }
  return 0;
}

describe("notebook 03 exercises", () => {
  it("exercise 1: grace periods and IPIs", { timeout: 30_000 }, () => {
    expect(checkGracePeriods(undefined).status).toBe("not attempted");
    expect(checkGracePeriods({ gracePeriods: 2, ipisUnderPressure: 1806 }).status).toBe("correct");
    expect(checkGracePeriods({ gracePeriods: 2, ipisUnderPressure: 602 }).status).toBe("incorrect");
    expect(checkGracePeriods({ gracePeriods: 1, ipisUnderPressure: 1806 }).message).toMatch(/pmd tables/);
  });

  it("exercise 2: only a preemption-off, IRQs-on walker is right", { timeout: 30_000 }, () => {
    const sched = function* (k: RK, mm: MmStruct, ea: number): Gen<number> {
      yield* k.preempt_disable();
      const pte = yield* walk(k, mm, ea);
      yield* k.preempt_enable();
      return pte;
    };
    const irqoff = function* (k: RK, mm: MmStruct, ea: number): Gen<number> {
      yield* k.local_irq_disable();
      const pte = yield* walk(k, mm, ea);
      yield* k.local_irq_enable();
      return pte;
    };
    expect(checkUnprotectedWalker({ walk: sched }).status).toBe("correct");
    const r1 = checkUnprotectedWalker({ walk: irqoff });
    expect(r1.status).toBe("incorrect");
    expect(r1.message).toMatch(/protects this walker too/);
    const r2 = checkUnprotectedWalker({ walk: walk });
    expect(r2.status).toBe("incorrect");
    expect(r2.message).toMatch(/grace period either/);
  });
});
