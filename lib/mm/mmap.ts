// Models mm/mmap.c, v3.14: unmap_region, the part of munmap (do_munmap) that tears a range down: unmap its
// PTEs, unlink the page tables no vma needs any more, then flush and free, all through one mmu_gather.

import type { Gen } from "../sim/machine";
import type { K } from "./kernel";
import type { MmStruct, Vma } from "./mm_types";

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

/** FIRST_USER_ADDRESS and USER_PGTABLES_CEILING (0: the top of the address space), as exit_mmap passes them. */
export const FIRST_USER_ADDRESS = 0;
export const USER_PGTABLES_CEILING = 0;

/**
 * exit_mmap (v3.14, called by the last mmput): one full-mm gather over every vma: unmap_vmas, free_pgtables
 * from FIRST_USER_ADDRESS to USER_PGTABLES_CEILING, tlb_finish_mmu. Nobody else uses the address space now
 * (mm_users is 0), which is what tlb_remove_table's mm_users < 2 shortcut relies on.
 */
export function* exit_mmap(k: K, mm: MmStruct): Gen {
  if (mm.vmas.length === 0) return;
  const vmas = [...mm.vmas].sort((a, b) => a.start - b.start); // the mm->mmap list is in address order
  const tlb = yield* k.tlb_gather_mmu(mm, true);
  for (const vma of vmas) yield* k.unmap_vmas(tlb, vma, 0, Infinity);
  for (let i = 0; i < vmas.length; i++) {
    const next = vmas[i + 1];
    yield* k.free_pgtables(
      tlb,
      vmas[i],
      i === 0 ? FIRST_USER_ADDRESS : vmas[i - 1].end,
      next ? next.start : USER_PGTABLES_CEILING,
    );
  }
  yield* k.tlb_finish_mmu(tlb, 0, Infinity);
}
