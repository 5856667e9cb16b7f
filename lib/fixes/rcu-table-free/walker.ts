// The scenario's third walker (not a v3.0 kernel function): one that relies on RCU-sched alone, holding
// rcu_read_lock_sched (preemption off) with IRQs on — the kind of software walker the commit's comment on
// tlb_remove_table_one says the IPI fallback does not cover. Overridable through `k` (exercise 2).

import type { Gen } from "../../sim/machine";
import { event } from "../../sim/event";
import { pt_entry_get_lockless } from "../../mm/pt_entry";
import { PTE_LEVEL } from "../../mm/mm_types";
import type { MmStruct, PtPage } from "../../mm/mm_types";
import type { RK } from "./era";

const E_SCHED_WALK = event("rcu_sched_walk", "read table entry (preemption off, IRQs on)", { cost: "mem" });

/**
 * A walker that relies on RCU-sched alone: rcu_read_lock_sched (preemption off, IRQs on), pgd → pmd → pte, one
 * entry per step. Not a v3.0 kernel function: the kind of software walker the commit's comment on
 * tlb_remove_table_one warns about.
 */
export function* rcu_sched_walk(k: RK, mm: MmStruct, ea: number): Gen<number> {
  yield* k.rcu_read_lock_sched();
  let t: PtPage | null = mm.pgd;
  let pte = 0;
  while (t !== null) {
    const e = yield* pt_entry_get_lockless(k, t, t.w.index(t.level, ea), "rcu_sched_walk", E_SCHED_WALK);
    if (e === undefined || e === 0) break;
    if (t.level === PTE_LEVEL) {
      pte = e;
      break;
    }
    t = t.w.child(e);
  }
  yield* k.rcu_read_unlock_sched();
  return pte;
}
