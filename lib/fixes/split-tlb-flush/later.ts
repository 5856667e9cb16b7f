// Fix 002's later history, v6.2 (Nov 2022): 7cc8f9c7146a "mm: mmu_gather: prepare to gather encoded page
// pointers with flags" and 5df397dec7c4 "mm: delay page_remove_rmap() until after the TLB has been flushed"
// (mm/memory.c, mm/mmu_gather.c, include/asm-generic/tlb.h). A dirty file page keeps its rmap until
// tlb_flush_rmaps, after tlb_flush_mmu_tlbonly and still under the PTL, so page_mkclean must wait for it.

import { Gen, READ } from "../../sim/machine";
import type { PageFrame } from "../../sim/page_alloc";
import type { MmuGather, EncodedPage } from "../../mm/mmu_gather";
import type { PtPage, Vma } from "../../mm/mm_types";
import { PTE_LEVEL } from "../../mm/mm_types";
import { PAGE_SIZE, pte_dirty, pte_pfn, pte_present } from "../../mm/pgtable";
import { checkTable, E_ZAP_READ } from "../../mm/memory";
import type { K315 } from "./after";

/** ENCODE_PAGE_BITS (v6.2, include/linux/mm_types.h): low pointer bits free for flags; bit 0 = "delay rmap". */
export const ENCODE_PAGE_BITS = 3;

/** encode_page (v6.2): tag a page pointer with flags (≤ ENCODE_PAGE_BITS). */
export function encode_page(page: PageFrame, flags: number, addr: number): EncodedPage {
  if (flags < 0 || flags > ENCODE_PAGE_BITS)
    throw new RangeError(`encode_page: flags ${flags} do not fit ${ENCODE_PAGE_BITS}`);
  return { page, flags, addr };
}
export const encoded_page_ptr = (e: EncodedPage): PageFrame => e.page;
export const encoded_page_flags = (e: EncodedPage): number => e.flags;

/** tlb_delay_rmap (v6.2, CONFIG_SMP and not s390): `((tlb)->delayed_rmap = 1), true`. */
export function tlb_delay_rmap(tlb: MmuGather): boolean {
  tlb.delayed_rmap = true;
  return true;
}

/**
 * __tlb_remove_page_size (v6.2, mm/mmu_gather.c): add an encoded page to the active batch; true when the batch
 * is full and no next batch may be started (the caller must flush). The batch chain is one flat array of
 * tlb.max here; tlb_next_batch's "no new batch while delayed rmaps are pending" limit (local bundle + one
 * batch ≈ 518 pages) is never reached, because a delayed rmap forces a flush at the end of its PTE table.
 */
export function* __tlb_remove_page_size(_k: K62, tlb: MmuGather, page: EncodedPage, _page_size: number): Gen<boolean> {
  tlb.need_flush = true;
  tlb.encoded_pages.push(page);
  return tlb.encoded_pages.length >= tlb.max;
}

/**
 * tlb_flush_rmaps (v6.2, mm/mmu_gather.c): the rmap removals zap_pte_range delayed, done after
 * tlb_flush_mmu_tlbonly and still under the PTE lock: page_remove_rmap for every page encoded with the flag.
 */
export function* tlb_flush_rmaps(k: K62, tlb: MmuGather, vma: Vma): Gen {
  if (!tlb.delayed_rmap) return;
  for (const enc of tlb.encoded_pages) {
    if (encoded_page_flags(enc)) yield* k.page_remove_rmap(encoded_page_ptr(enc), vma.mm, enc.addr);
  }
  tlb.delayed_rmap = false;
}

/**
 * tlb_flush_mmu_tlbonly (v6.2, asm-generic/tlb.h): return unless PTEs or tables were cleared, else tlb_flush
 * and __tlb_reset_range (the x86 and hash tlb_flush reset the range themselves).
 */
export function* tlb_flush_mmu_tlbonly(k: K62, tlb: MmuGather): Gen {
  if (!tlb.need_flush) return; // !(freed_tables || cleared_ptes || ...)
  yield* k.tlb_flush(tlb);
  tlb.need_flush = false; // __tlb_reset_range
}

/**
 * tlb_flush_mmu_free (v6.2): tlb_table_flush, then tlb_batch_pages_flush: free_pages_and_swap_cache on the
 * encoded pages. A page whose rmap removal was delayed has had it done by now (tlb_flush_rmaps).
 */
export function* tlb_flush_mmu_free(k: K62, tlb: MmuGather): Gen {
  const tables = tlb.tables;
  tlb.tables = [];
  for (const t of tables) yield* k.pte_free(t);
  const pages = tlb.encoded_pages;
  tlb.encoded_pages = [];
  for (const e of pages) yield* k.put_page(encoded_page_ptr(e));
}

/** tlb_flush_mmu (v6.2, mm/mmu_gather.c): no need_flush test of its own; tlbonly and free each check. */
export function* tlb_flush_mmu(k: K62, tlb: MmuGather): Gen {
  yield* k.tlb_flush_mmu_tlbonly(tlb);
  yield* k.tlb_flush_mmu_free(tlb);
}

/** The v6.2 mmu_gather entry points, as seen through `k`. */
export interface K62 extends K315 {
  __tlb_remove_page_size(tlb: MmuGather, page: EncodedPage, page_size: number): Gen<boolean>;
  tlb_flush_rmaps(tlb: MmuGather, vma: Vma): Gen;
}

/**
 * zap_pte_range (v6.2, mm/memory.c after 5df397dec7c4 "mm: delay page_remove_rmap() until after the TLB has
 * been flushed"): for a dirty file PTE, set_page_dirty, then tlb_delay_rmap: the page is gathered encoded with
 * the delay flag and keeps its rmap (so page_mkclean still sees it mapped and must take this PTE lock) until
 * tlb_flush_rmaps, after tlb_flush_mmu_tlbonly and before pte_unmap_unlock. After the unlock a forced flush
 * runs the whole tlb_flush_mmu. v6.2 returns `addr` and zap_pmd_range calls it again for the same pmd while
 * `addr != next`; the loop here is that retry.
 */
export function* zap_pte_range(k: K62, tlb: MmuGather, vma: Vma, pt: PtPage, addr: number, end: number): Gen<number> {
  const mm = vma.mm;
  const w = mm.w;
  const L = w.L;
  for (;;) {
    let force_flush = false;
    const ptl = pt.ptl!;
    yield* k.spin_lock(ptl); // pte_offset_map_lock
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
      const ptent = yield* k.ptep_get_and_clear(mm, addr, ptep); // ptep_get_and_clear_full
      tlb.need_flush = true; // tlb_remove_tlb_entry: cleared_ptes, range
      tlb.start = Math.min(tlb.start, addr);
      tlb.end = Math.max(tlb.end, addr + PAGE_SIZE);
      const f = w.pa.frames[pte_pfn(ptent, L)];
      const page = w.pages[f.pfn];
      let delay_rmap = 0;
      if (!page.anon) {
        if (pte_dirty(ptent, L)) {
          yield* k.set_page_dirty(f);
          if (tlb_delay_rmap(tlb)) {
            delay_rmap = 1;
            force_flush = true;
          }
        }
      }
      if (!delay_rmap) yield* k.page_remove_rmap(f, mm, addr);
      const enc = encode_page(f, delay_rmap, addr); // __tlb_remove_page(tlb, page, delay_rmap)
      if (yield* k.__tlb_remove_page_size(tlb, enc, PAGE_SIZE)) {
        force_flush = true;
        addr += PAGE_SIZE;
        break;
      }
      addr += PAGE_SIZE;
    }
    yield* k.arch_leave_lazy_mmu_mode();
    // Do the actual TLB flush before dropping ptl
    if (force_flush) {
      yield* k.tlb_flush_mmu_tlbonly(tlb);
      yield* k.tlb_flush_rmaps(tlb, vma);
    }
    yield* k.spin_unlock(ptl);
    if (force_flush) yield* k.tlb_flush_mmu(tlb);
    if (addr >= end) return addr;
  }
}
