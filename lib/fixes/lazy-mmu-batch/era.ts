// The generic mmu_gather of the v2.6.22 kernel fix 000 runs on (include/asm-generic/tlb.h, v2.6.22): the gather
// was per-CPU (get_cpu_var(mmu_gathers)), so preemption stayed off from tlb_gather_mmu to tlb_finish_mmu.
// The base model's gather (lib/mm/mmu_gather.ts) is v3.14's, which lives on the caller's stack.

import type { Gen } from "../../sim/machine";
import type { K } from "../../mm/kernel";
import type { MmStruct } from "../../mm/mm_types";
import { MmuGather } from "../../mm/mmu_gather";

/**
 * tlb_gather_mmu (v2.6.2x): the gather was per-CPU (get_cpu_var(mmu_gathers)), so preemption stayed off from
 * here to tlb_finish_mmu — the unmapper cannot migrate while its per-CPU hash batch is pending.
 */
export function* tlb_gather_mmu(k: K, mm: MmStruct, fullmm: boolean): Gen<MmuGather> {
  yield* k.preempt_disable();
  return new MmuGather(mm, fullmm, mm.w.gatherMax, k.cpu());
}

/** tlb_finish_mmu (v2.6.2x): final flush and free, then put_cpu_var(mmu_gathers). */
export function* tlb_finish_mmu(k: K, tlb: MmuGather, _start: number, _end: number): Gen {
  yield* k.tlb_flush_mmu(tlb);
  yield* k.preempt_enable();
}
