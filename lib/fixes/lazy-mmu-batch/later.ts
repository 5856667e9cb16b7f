// Fix 000's later history: b9ef323ea168 "powerpc/64s: Disable preemption in hash lazy mmu mode" (Oct 2022,
// v6.1; arch/powerpc/include/asm/book3s/64/tlbflush-hash.h): enter/leave disable and enable preemption,
// because since 38e0edb15bd0 (2020) apply_to_page_range runs lazy sections without any PTE lock.

import type { Gen } from "../../sim/machine";
import type { PK } from "../../powerpc/kernel";
import { thisBatch, batchId, E_ACTIVE, E_INACTIVE } from "../../powerpc/tlb_batch";

/** arch_enter_lazy_mmu_mode (b9ef323ea168): preempt_disable, then batch->active = 1. */
export function* arch_enter_lazy_mmu_mode(k: PK): Gen {
  yield* k.preempt_disable();
  k.W(batchId(k), E_ACTIVE);
  yield;
  thisBatch(k).active = 1;
}

/** arch_leave_lazy_mmu_mode (b9ef323ea168): flush, batch->active = 0, then preempt_enable. */
export function* arch_leave_lazy_mmu_mode(k: PK): Gen {
  const batch = thisBatch(k);
  if (batch.index) yield* k.__flush_tlb_pending(batch);
  k.W(batchId(k), E_INACTIVE);
  yield;
  batch.active = 0;
  yield* k.preempt_enable();
}
