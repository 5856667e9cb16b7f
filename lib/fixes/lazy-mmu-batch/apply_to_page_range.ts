// Models apply_to_page_range / apply_to_pte_range of mm/memory.c after 38e0edb15bd0 "mm/apply_to_range: call
// pte function with lazy updates" (2020, v5.9): the callback runs on each PTE inside a lazy-MMU section. For a
// user mm the section is inside the PTE lock; for kernel mappings (init_mm) there is no PTE lock, so the
// section runs preemptible — which hash's per-CPU batch never expected (fixed by b9ef323ea168, 2022).

import type { Gen } from "../../sim/machine";
import type { K } from "../../mm/kernel";
import type { MmStruct, Ptep } from "../../mm/mm_types";
import { PAGE_SIZE } from "../../mm/pgtable";

/** pte_fn_t: called on each PTE of the range. */
export type PteFn = (k: K, ptep: Ptep, addr: number) => Gen<unknown>;

/** apply_to_pte_range (v5.9): lazy-MMU section around the callbacks; PTE lock only for user mms. */
export function* apply_to_pte_range(k: K, mm: MmStruct, kernel: boolean, addr: number, end: number, fn: PteFn): Gen {
  const first = yield* k.follow_pte_table(mm, addr);
  if (first === null) return;
  const ptl = kernel ? null : first.pt.ptl!;
  if (ptl) yield* k.spin_lock(ptl);
  yield* k.arch_enter_lazy_mmu_mode();
  for (; addr < end; addr += PAGE_SIZE) {
    const ptep = mm.w.lookup(mm, addr);
    if (ptep) yield* fn(k, ptep, addr);
  }
  yield* k.arch_leave_lazy_mmu_mode();
  if (ptl) yield* k.spin_unlock(ptl);
}
