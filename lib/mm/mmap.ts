// Models mm/mmap.c, v3.14: unmap_region, the part of munmap (do_munmap) that tears a range down: unmap its
// PTEs, unlink the page tables no vma needs any more, then flush and free, all through one mmu_gather.

import type { Gen } from "../sim/machine";
import type { K } from "./kernel";
import type { Vma } from "./mm_types";

/**
 * unmap_region: tlb_gather_mmu; unmap_vmas; free_pgtables over [floor, ceiling) (the neighbouring vmas'
 * bounds in the kernel; here the caller's); tlb_finish_mmu. The caller holds mmap_sem for writing.
 */
export function* unmap_region(k: K, vma: Vma, start: number, end: number, floor: number, ceiling: number): Gen {
  const tlb = yield* k.tlb_gather_mmu(vma.mm, false);
  yield* k.unmap_vmas(tlb, vma, start, end);
  yield* k.free_pgtables(tlb, vma, floor, ceiling);
  yield* k.tlb_finish_mmu(tlb, start, end);
}
