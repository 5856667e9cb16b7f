// Models the mmu_gather of mm/memory.c and include/asm-generic/tlb.h, v3.14: unlink PTEs, flush the TLB, then
// free the pages, in that order, in one tlb_flush_mmu. Other eras' gathers (the 2.6.22 per-CPU one, the
// 1cf35d47 tlbonly/free split, v6.2's delayed rmap) live in the fix folders that use them.

import type { Gen } from "../sim/machine";
import type { PageFrame } from "../sim/page_alloc";
import type { K } from "./kernel";
import type { MmStruct, PtPage } from "./mm_types";

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
  // Fields of later eras, used only by the versions in lib/fixes/split-tlb-flush/later.ts:
  /** v6.2 (5df397dec7c4): some gathered pages still hold their rmap, to be dropped by tlb_flush_rmaps. */
  delayed_rmap = false;
  /** v6.2 (7cc8f9c7146a): the batch holds encoded page pointers (page | flags) instead of pages. */
  encoded_pages: EncodedPage[] = [];
  constructor(
    readonly mm: MmStruct,
    readonly fullmm: boolean,
    readonly max: number,
    readonly cpu: number,
  ) {}
}

/** tlb_gather_mmu: start an unmap batch for `mm`. */
export function* tlb_gather_mmu(k: K, mm: MmStruct, fullmm: boolean): Gen<MmuGather> {
  return new MmuGather(mm, fullmm, mm.w.gatherMax, k.cpu());
}

/** __tlb_remove_page: queue a page to free after the flush; returns the room left (0: caller must flush). */
export function* __tlb_remove_page(_k: K, tlb: MmuGather, page: PageFrame): Gen<number> {
  tlb.need_flush = true;
  tlb.pages.push(page);
  return tlb.max - tlb.pages.length;
}

/**
 * tlb_flush_mmu (v3.14, mm/memory.c): one function doing both jobs, the TLB flush and the freeing of the
 * gathered pages, so a caller cannot flush under the PTE lock without also freeing there.
 */
export function* tlb_flush_mmu(k: K, tlb: MmuGather): Gen {
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

/** tlb_finish_mmu: end of the unmap: the final flush and free. */
export function* tlb_finish_mmu(k: K, tlb: MmuGather, _start: number, _end: number): Gen {
  yield* k.tlb_flush_mmu(tlb);
}

/** pte_free_tlb: unlinked PTE page → freed after the flush (fix 001's RCU scheme replaces this). */
export function* pte_free_tlb(_k: K, tlb: MmuGather, pt: PtPage): Gen {
  tlb.need_flush = true;
  tlb.tables.push(pt);
}

/**
 * struct encoded_page (v6.2): a page pointer with flags in its low bits. `addr` is a ghost the model needs for
 * its (mm, address) rmap bookkeeping; the kernel's page_remove_rmap(page, vma, false) does not need it.
 */
export interface EncodedPage {
  readonly page: PageFrame;
  readonly flags: number;
  readonly addr: number;
}
