// Models the mmu_gather of mm/memory.c and include/asm-generic/tlb.h (v3.0 to v3.14; the 2.6.22 per-CPU
// gather had the same contract): unlink PTEs, flush the TLB, then free the pages, in that order. The tlbonly /
// free split is fix 002's; the combined tlb_flush_mmu is the v3.14 (pre-fix) behaviour built from them.

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

/** tlb_flush_mmu (v3.14): flush then free, if anything was unmapped. */
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
