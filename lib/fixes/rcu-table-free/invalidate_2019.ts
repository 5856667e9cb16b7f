// 96bc9567cbe1 "asm-generic/tlb, arch: Invert CONFIG_HAVE_RCU_TABLE_INVALIDATE" (Peter Zijlstra, posted Sep 2018;
// Will Deacon: "inverting this to be opt-out is definitely the safe thing to do"): the invalidate becomes the
// default, and architectures whose hardware does not walk Linux's tables opt out with
// HAVE_RCU_TABLE_NO_INVALIDATE. powerpc selects it (for hash) — so radix, which does walk them, loses the
// invalidate again. tlb_table_flush and tlb_remove_table are d86564a2f085's (invalidate_2018.ts).

import type { Gen } from "../../sim/machine";
import type { MmuGather } from "../../mm/mmu_gather";
import type { RKW } from "./radix";

/** arch/powerpc/Kconfig: select HAVE_RCU_TABLE_NO_INVALIDATE if HAVE_RCU_TABLE_FREE. */
export const CONFIG_HAVE_RCU_TABLE_NO_INVALIDATE = true;

/** tlb_table_invalidate (96bc9567cbe1): tlb_flush_mmu_tlbonly unless the arch opted out. */
export function* tlb_table_invalidate(k: RKW, tlb: MmuGather): Gen {
  if (!CONFIG_HAVE_RCU_TABLE_NO_INVALIDATE) yield* k.tlb_flush(tlb);
}
