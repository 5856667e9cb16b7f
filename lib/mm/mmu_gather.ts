// Models the mmu_gather of mm/memory.c and include/asm-generic/tlb.h (v3.0 to v3.14; the 2.6.22 per-CPU
// gather had the same contract): unlink PTEs, flush the TLB, then free the pages, in that order. The tlbonly /
// free split is fix 002's; the combined tlb_flush_mmu is the v3.14 (pre-fix) behaviour built from them.

import type { Gen } from "../sim/machine";
import type { PageFrame } from "../sim/page_alloc";
import type { K } from "./kernel";
import type { MmStruct, PtPage, Vma } from "./mm_types";

/** MMU_GATHER_BUNDLE: pages held on the gather itself before an extra batch page would be needed. */
export const MMU_GATHER_BUNDLE = 8;

/** struct mmu_gather: lives on the unmapping thread's stack, so touching it is not a shared access. */
export class MmuGather {
  need_flush = false;
  /** Pages gathered (each holds the reference the unmapped PTE had). */
  pages: PageFrame[] = [];
  /** Page-table pages unlinked and waiting for the flush (pte_free_tlb). */
  tables: PtPage[] = [];
  start = Infinity;
  end = 0;
  /** v6.2 (5df397dec7c4): some gathered pages still hold their rmap, to be dropped by tlb_flush_rmaps. */
  delayed_rmap = false;
  /** v6.2 (7cc8f9c7146a): the batch holds encoded page pointers (page | flags) instead of pages. */
  encoded_pages: EncodedPage[] = [];
  constructor(readonly mm: MmStruct, readonly fullmm: boolean, readonly max: number, readonly cpu: number) {}
}

/** tlb_gather_mmu: start an unmap batch for `mm`. */
export function* tlb_gather_mmu(k: K, mm: MmStruct, fullmm: boolean): Gen<MmuGather> {
  return new MmuGather(mm, fullmm, mm.w.gatherMax, k.cpu());
}

/** __tlb_remove_page: queue a page to free after the flush; returns the room left (0: caller must flush). */
export function* __tlb_remove_page(k: K, tlb: MmuGather, page: PageFrame): Gen<number> {
  void k;
  tlb.need_flush = true;
  tlb.pages.push(page);
  return tlb.max - tlb.pages.length;
}

/** tlb_flush_mmu_tlbonly: the TLB half (arch tlb_flush). */
export function* tlb_flush_mmu_tlbonly(k: K, tlb: MmuGather): Gen {
  tlb.need_flush = false;
  yield* k.tlb_flush(tlb);
}

/** tlb_flush_mmu_free: the freeing half; only safe once no TLB can still translate to these pages. */
export function* tlb_flush_mmu_free(k: K, tlb: MmuGather): Gen {
  const pages = tlb.pages;
  tlb.pages = [];
  for (const p of pages) yield* k.put_page(p);
  const tables = tlb.tables;
  tlb.tables = [];
  for (const t of tables) yield* k.pte_free(t);
}

/** tlb_flush_mmu (1cf35d47, v3.15): flush then free, if anything was unmapped, through the two halves. */
export function* tlb_flush_mmu(k: K, tlb: MmuGather): Gen {
  if (!tlb.need_flush) return;
  yield* k.tlb_flush_mmu_tlbonly(tlb);
  yield* k.tlb_flush_mmu_free(tlb);
}

/** tlb_finish_mmu: end of the unmap: the final flush and free. */
export function* tlb_finish_mmu(k: K, tlb: MmuGather, start: number, end: number): Gen {
  void start, end;
  yield* k.tlb_flush_mmu(tlb);
}

/** pte_free_tlb: unlinked PTE page → freed after the flush (fix 001's RCU scheme replaces this). */
export function* pte_free_tlb(k: K, tlb: MmuGather, pt: PtPage): Gen {
  void k;
  tlb.need_flush = true;
  tlb.tables.push(pt);
}

/**
 * tlb_gather_mmu (v2.6.2x): the gather was per-CPU (get_cpu_var(mmu_gathers)), so preemption stayed off from
 * here to tlb_finish_mmu — the unmapper cannot migrate while its per-CPU hash batch is pending.
 */
export function* tlb_gather_mmu_v2622(k: K, mm: MmStruct, fullmm: boolean): Gen<MmuGather> {
  yield* k.preempt_disable();
  return new MmuGather(mm, fullmm, mm.w.gatherMax, k.cpu());
}

/** tlb_finish_mmu (v2.6.2x): final flush and free, then put_cpu_var(mmu_gathers). */
export function* tlb_finish_mmu_v2622(k: K, tlb: MmuGather, start: number, end: number): Gen {
  void start, end;
  yield* k.tlb_flush_mmu(tlb);
  yield* k.preempt_enable();
}

// ---- v3.14: before 1cf35d47 ------------------------------------------------------------------------------

/**
 * tlb_flush_mmu (v3.14, mm/memory.c): one function doing both jobs, the TLB flush and the freeing of the
 * gathered pages, so a caller cannot flush under the PTE lock without also freeing there.
 */
export function* tlb_flush_mmu_v314(k: K, tlb: MmuGather): Gen {
  if (!tlb.need_flush) return;
  tlb.need_flush = false;
  yield* k.tlb_flush(tlb);
  // CONFIG_HAVE_RCU_TABLE_FREE: tlb_table_flush (not modelled: fix 001's business)
  const pages = tlb.pages;
  tlb.pages = [];
  for (const p of pages) yield* k.put_page(p); // free_pages_and_swap_cache
  const tables = tlb.tables;
  tlb.tables = [];
  for (const t of tables) yield* k.pte_free(t);
}

// ---- v6.2: delayed rmap (7cc8f9c7146a + 5df397dec7c4, Nov 2022; mm/mmu_gather.c, asm-generic/tlb.h) ----------

/** ENCODE_PAGE_BITS (v6.2, include/linux/mm_types.h): low pointer bits free for flags; bit 0 = "delay rmap". */
export const ENCODE_PAGE_BITS = 3;

/**
 * struct encoded_page (v6.2): a page pointer with flags in its low bits. `addr` is a ghost the model needs for
 * its (mm, address) rmap bookkeeping; the kernel's page_remove_rmap(page, vma, false) does not need it.
 */
export interface EncodedPage {
  readonly page: PageFrame;
  readonly flags: number;
  readonly addr: number;
}

/** encode_page (v6.2): tag a page pointer with flags (≤ ENCODE_PAGE_BITS). */
export function encode_page(page: PageFrame, flags: number, addr: number): EncodedPage {
  if (flags < 0 || flags > ENCODE_PAGE_BITS) throw new RangeError(`encode_page: flags ${flags} do not fit ${ENCODE_PAGE_BITS}`);
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
export function* __tlb_remove_page_size(k: K, tlb: MmuGather, page: EncodedPage, page_size: number): Gen<boolean> {
  void k, page_size;
  tlb.need_flush = true;
  tlb.encoded_pages.push(page);
  return tlb.encoded_pages.length >= tlb.max;
}

/**
 * tlb_flush_rmaps (v6.2, mm/mmu_gather.c): the rmap removals zap_pte_range delayed, done after
 * tlb_flush_mmu_tlbonly and still under the PTE lock: page_remove_rmap for every page encoded with the flag.
 */
export function* tlb_flush_rmaps(k: K, tlb: MmuGather, vma: Vma): Gen {
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
export function* tlb_flush_mmu_tlbonly_v62(k: K, tlb: MmuGather): Gen {
  if (!tlb.need_flush) return; // !(freed_tables || cleared_ptes || ...)
  yield* k.tlb_flush(tlb);
  tlb.need_flush = false; // __tlb_reset_range
}

/**
 * tlb_flush_mmu_free (v6.2): tlb_table_flush, then tlb_batch_pages_flush: free_pages_and_swap_cache on the
 * encoded pages. A page whose rmap removal was delayed has had it done by now (tlb_flush_rmaps).
 */
export function* tlb_flush_mmu_free_v62(k: K, tlb: MmuGather): Gen {
  const tables = tlb.tables;
  tlb.tables = [];
  for (const t of tables) yield* k.pte_free(t);
  const pages = tlb.encoded_pages;
  tlb.encoded_pages = [];
  for (const e of pages) yield* k.put_page(encoded_page_ptr(e));
}

/** tlb_flush_mmu (v6.2, mm/mmu_gather.c): no need_flush test of its own; tlbonly and free each check. */
export function* tlb_flush_mmu_v62(k: K, tlb: MmuGather): Gen {
  yield* k.tlb_flush_mmu_tlbonly(tlb);
  yield* k.tlb_flush_mmu_free(tlb);
}
