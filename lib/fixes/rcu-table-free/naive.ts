// Fix 001's "naive" variant: a hash-MMU kernel that frees page tables at once. This is powerpc's own !CONFIG_SMP
// pgtable_free_tlb (include/asm/pgalloc.h, v2.6.29–v3.0): with one CPU no walker can run concurrently, so it
// frees right away. Installed on an SMP machine it is what ppc64 would be without the deferral, since tlbie
// needs no IPI and nothing else holds the free off.

import type { Gen } from "../../sim/machine";
import type { MmuGather } from "../../mm/mmu_gather";
import type { RK } from "./era";

/** pgtable_free_tlb (!CONFIG_SMP): pgtable_free(table, shift) now. */
export function* pgtable_free_tlb(k: RK, _tlb: MmuGather, table: number, shift: number): Gen {
  yield* k.pgtable_free(table, shift);
}
