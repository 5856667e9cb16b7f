// 0ed1325967ab "mm/mmu_gather: invalidate TLB correctly on batch allocation failure and flush" (Peter Zijlstra,
// Aneesh Kumar K.V, Jan 2020; Fixes: a46cc7a90fd8 "powerpc/mm/radix: Improve TLB/PWC flushes", Cc: stable
// 4.14+): HAVE_RCU_TABLE_NO_INVALIDATE is gone; tlb_needs_table_invalidate() (default true) decides at run time,
// and powerpc defines it as radix_enabled(): "Hash does not use the linux page-tables, so we can avoid the TLB
// invalidate for page-table freeing, Radix otoh does use the page-tables and needs the TLBI."

import type { Gen } from "../../sim/machine";
import type { MmuGather } from "../../mm/mmu_gather";
import { radix_enabled } from "./radix";
import type { RKW } from "./radix";

/** tlb_needs_table_invalidate (arch/powerpc/include/asm/tlb.h): radix_enabled(). */
export function tlb_needs_table_invalidate(k: RKW): boolean {
  return radix_enabled(k);
}

/** tlb_table_invalidate (0ed1325967ab): tlb_flush_mmu_tlbonly if tlb_needs_table_invalidate(). */
export function* tlb_table_invalidate(k: RKW, tlb: MmuGather): Gen {
  if (tlb_needs_table_invalidate(k)) yield* k.tlb_flush(tlb);
}
