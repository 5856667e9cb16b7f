// Fix 002's "after": 1cf35d47712dd5dc "mm: split 'tlb_flush_mmu()' into tlb flushing and memory freeing parts"
// (Linus Torvalds, v3.15-rc, Apr 2014; mm/memory.c). tlb_flush_mmu becomes tlb_flush_mmu_tlbonly + _free, and
// zap_pte_range does the TLB half before pte_unmap_unlock. The "before" is the base model's v3.14 code.

import { Gen, READ } from "../../sim/machine";
import type { K } from "../../mm/kernel";
import type { MmuGather } from "../../mm/mmu_gather";
import type { PtPage, Vma } from "../../mm/mm_types";
import { PTE_LEVEL } from "../../mm/mm_types";
import { PAGE_SIZE, pte_dirty, pte_pfn, pte_present } from "../../mm/pgtable";
import { checkTable, E_ZAP_READ } from "../../mm/memory";

/** The 1cf35d47 gather entry points, as seen through `k`. */
export interface K315 extends K {
  tlb_flush_mmu_tlbonly(tlb: MmuGather): Gen;
  tlb_flush_mmu_free(tlb: MmuGather): Gen;
}

/** tlb_flush_mmu_tlbonly: the TLB half (arch tlb_flush). */
export function* tlb_flush_mmu_tlbonly(k: K315, tlb: MmuGather): Gen {
  tlb.need_flush = false;
  yield* k.tlb_flush(tlb);
}

/** tlb_flush_mmu_free: the freeing half; only safe once no TLB can still translate to these pages. */
export function* tlb_flush_mmu_free(k: K315, tlb: MmuGather): Gen {
  const pages = tlb.pages;
  tlb.pages = [];
  for (const p of pages) yield* k.put_page(p);
  const tables = tlb.tables;
  tlb.tables = [];
  for (const t of tables) yield* k.pte_free(t);
}

/** tlb_flush_mmu (1cf35d47, v3.15): flush then free, if anything was unmapped, through the two halves. */
export function* tlb_flush_mmu(k: K315, tlb: MmuGather): Gen {
  if (!tlb.need_flush) return;
  yield* k.tlb_flush_mmu_tlbonly(tlb);
  yield* k.tlb_flush_mmu_free(tlb);
}

/**
 * zap_pte_range (1cf35d47712d, v3.15, mm/memory.c): a dirty PTE of a file page now forces a flush, and a forced
 * flush is split: tlb_flush_mmu_tlbonly for [start, addr) BEFORE pte_unmap_unlock, so page_mkclean (which
 * takes this PTE lock) cannot clean the page while a TLB may still hold it writable and dirty;
 * tlb_flush_mmu_free after the unlock; then `goto again` if the range is not done. The rmap is still dropped
 * under the lock but before the flush: for a page's last mapping page_mkclean does not wait (fixed in v6.2).
 * As in the rest of the model, `addr` is advanced before the "gather full" break (the v3.15 text broke first,
 * so its [start, addr) missed the last gathered page until ce9ec37bddb6; the scenarios never fill a gather).
 */
export function* zap_pte_range(k: K315, tlb: MmuGather, vma: Vma, pt: PtPage, addr: number, end: number): Gen<number> {
  const mm = vma.mm;
  const w = mm.w;
  const L = w.L;
  for (;;) {
    // again:
    let force_flush = false;
    const ptl = pt.ptl!;
    yield* k.spin_lock(ptl);
    yield* k.arch_enter_lazy_mmu_mode();
    while (addr < end) {
      const ptep = pt.pteps[w.index(PTE_LEVEL, addr)];
      k.RW2(ptep.id, READ, pt.frame.id, READ, E_ZAP_READ);
      yield;
      if (!checkTable(k, pt, "zap_pte_range")) break;
      if (!pte_present(ptep.v, L)) {
        addr += PAGE_SIZE;
        continue;
      }
      const ptent = yield* k.ptep_get_and_clear(mm, addr, ptep);
      tlb.need_flush = true; // tlb_remove_tlb_entry
      tlb.start = Math.min(tlb.start, addr);
      tlb.end = Math.max(tlb.end, addr + PAGE_SIZE);
      const f = w.pa.frames[pte_pfn(ptent, L)];
      const page = w.pages[f.pfn];
      if (!page.anon) {
        if (pte_dirty(ptent, L)) {
          force_flush = true;
          yield* k.set_page_dirty(f);
        }
      }
      yield* k.page_remove_rmap(f, mm, addr);
      addr += PAGE_SIZE;
      if ((yield* k.__tlb_remove_page(tlb, f)) === 0) {
        force_flush = true;
        break;
      }
    }
    yield* k.arch_leave_lazy_mmu_mode();
    // Do the actual TLB flush before dropping ptl
    if (force_flush) {
      const old_end = tlb.end;
      tlb.end = addr;
      yield* k.tlb_flush_mmu_tlbonly(tlb);
      tlb.start = addr;
      tlb.end = old_end;
    }
    yield* k.spin_unlock(ptl);
    // A forced flush frees the batched pages too, and restarts if the range is not done.
    if (force_flush) {
      yield* k.tlb_flush_mmu_free(tlb);
      if (addr !== end) continue; // goto again
    }
    return addr;
  }
}
