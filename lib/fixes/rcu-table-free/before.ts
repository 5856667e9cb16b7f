// Fix 001's "before": the parent of 267239116987, i.e. the tree right after d6bf29b44ddf "powerpc: mmu_gather
// rework" (Peter Zijlstra, v3.0-rc1). powerpc frees page tables by itself (arch/powerpc/mm/pgtable.c): the
// batch hangs off the now preemptible, on-stack mmu_gather (tlb->arch.batch, HAVE_ARCH_MMU_GATHER), is a page
// from __get_free_page(GFP_ATOMIC), is submitted to call_rcu_sched when full or from the arch's tlb_flush
// (pte_free_finish), and when the page cannot be had the table is freed after a synchronous no-op IPI to
// every other CPU (pgtable_free_now). v2.6.39's code is different again (a per-CPU pte_freelist_cur under the
// then per-CPU gather, and a shortcut when only this CPU ran the mm); it is not modelled here.

import type { Gen } from "../../sim/machine";
import type { KernelBase } from "../../sim/kernel";
import { GFP_ATOMIC } from "../../sim/page_alloc";
import type { PageFrame } from "../../sim/page_alloc";
import { MmuGather } from "../../mm/mmu_gather";
import type { MmStruct } from "../../mm/mm_types";
import { mmWorld } from "../../mm/mm_types";
import { thisBatch } from "../../powerpc/tlb_batch";
import { event } from "../../sim/event";
import { RK, MAX_PGTABLE_INDEX_SIZE, BATCH_HEADER_BYTES, batchCapacity, awaitingGracePeriod, tableBytes } from "./era";
import { PAGE_SIZE } from "../../mm/pgtable";

/** struct pte_freelist_batch: an rcu_head, an index and the encoded tables, filling one page. */
export class PteFreelistBatch {
  index = 0;
  /** unsigned long tables[]: each a table address | its index size. */
  readonly tables: number[] = [];
  constructor(readonly page: PageFrame) {}
}

/** struct arch_mmu_gather: what HAVE_ARCH_MMU_GATHER adds to the generic gather (tlb->arch). */
export interface ArchMmuGather {
  batch: PteFreelistBatch | null;
}

/** struct mmu_gather of d6bf29b44ddf: the generic fields plus `arch` (ARCH_MMU_GATHER_INIT: batch = NULL). */
export class MmuGatherArch extends MmuGather {
  arch: ArchMmuGather = { batch: null };
}

/** PTE_FREELIST_SIZE: (PAGE_SIZE - sizeof(struct pte_freelist_batch)) / sizeof(unsigned long) = 509 on 4K. */
export function PTE_FREELIST_SIZE(k: KernelBase): number {
  return batchCapacity(k.m, (PAGE_SIZE - BATCH_HEADER_BYTES) / 8);
}

const E_USERS = event("pgtable_free_tlb", "atomic_read(&tlb->mm->mm_users)", { cost: "mem" });

/** tlb_gather_mmu (d6bf29b44ddf): an on-stack gather; tlb->arch = ARCH_MMU_GATHER_INIT. */
export function* tlb_gather_mmu(k: RK, mm: MmStruct, fullmm: boolean): Gen<MmuGather> {
  return new MmuGatherArch(mm, fullmm, mm.w.gatherMax, k.cpu());
}

/**
 * tlb_flush_mmu (d6bf29b44ddf, asm-generic/tlb.h): if anything was unmapped, the arch's tlb_flush (which on
 * powerpc also pushes out the table batch), then free the gathered pages.
 */
export function* tlb_flush_mmu(k: RK, tlb: MmuGather): Gen {
  if (!tlb.need_flush) return;
  tlb.need_flush = false;
  yield* k.tlb_flush(tlb);
  const pages = tlb.pages;
  tlb.pages = [];
  for (const p of pages) yield* k.put_page(p); // free_pages_and_swap_cache
}

/**
 * tlb_flush (arch/powerpc/mm/tlb_hash64.c, d6bf29b44ddf): flush this CPU's pending hash batch before the
 * pages are freed, then push out the batch of freed page tables.
 */
export function* tlb_flush(k: RK, tlb: MmuGather): Gen {
  yield* k.preempt_disable(); // get_cpu_var(ppc64_tlb_batch)
  const batch = thisBatch(k);
  if (batch.index) yield* k.__flush_tlb_pending(batch);
  yield* k.preempt_enable(); // put_cpu_var
  yield* k.pte_free_finish(tlb);
}

/** pte_free_smp_sync: the IPI handler: nothing, its delivery is the point. */
export function* pte_free_smp_sync(_k: RK, _arg: unknown): Gen {}

function* pte_free_smp_sync_ipi(k: KernelBase, arg: unknown): Gen {
  yield* (k as RK).pte_free_smp_sync(arg);
}

/**
 * pgtable_free_now: only when critically out of memory (no page for a batch): wait until every other CPU
 * has taken an IPI — so none is still inside an IRQ-off walk that began before the table was unlinked —
 * then free the table.
 */
export function* pgtable_free_now(k: RK, table: number, shift: number): Gen {
  k.count("pte_freelist_forced_free");
  yield* k.smp_call_function("pte_free_smp_sync", pte_free_smp_sync_ipi, null, true);
  yield* k.pgtable_free(table, shift);
}

/** pte_free_rcu_callback: after the grace period, free each table (decoding its index size), then the batch page. */
export function* pte_free_rcu_callback(k: RK, head: unknown): Gen {
  const batch = head as PteFreelistBatch;
  let bytes = PAGE_SIZE;
  for (let i = 0; i < batch.index; i++) {
    const shift = batch.tables[i] % (MAX_PGTABLE_INDEX_SIZE + 1); // & MAX_PGTABLE_INDEX_SIZE
    const table = batch.tables[i] - shift; // & ~MAX_PGTABLE_INDEX_SIZE
    bytes += tableBytes(shift);
    yield* k.pgtable_free(table, shift);
  }
  yield* k.free_page(mmWorld(k.m).pa, batch.page);
  awaitingGracePeriod(k, -batch.index, -bytes);
}

function* pte_free_rcu_callback_rcu(k: KernelBase, head: unknown): Gen {
  yield* (k as RK).pte_free_rcu_callback(head);
}

/** pte_free_submit: call_rcu_sched(&batch->rcu, pte_free_rcu_callback). */
export function* pte_free_submit(k: RK, batch: unknown): Gen {
  const b = batch as PteFreelistBatch;
  k.count("table batches submitted");
  awaitingGracePeriod(
    k,
    b.index,
    PAGE_SIZE + b.tables.slice(0, b.index).reduce((n, t) => n + tableBytes(t % (MAX_PGTABLE_INDEX_SIZE + 1)), 0),
  );
  yield* k.call_rcu_sched("pte_free_rcu_callback", pte_free_rcu_callback_rcu, batch);
}

/**
 * pgtable_free_tlb (d6bf29b44ddf): free at once if the mm has fewer than two users (no concurrent walk, the
 * comment of the era assumes); else queue `table | shift` in tlb->arch.batch, allocating its page with
 * GFP_ATOMIC (on failure, pgtable_free_now), and submit the batch when full.
 */
export function* pgtable_free_tlb(k: RK, tlb: MmuGather, table: number, shift: number): Gen {
  const batchp = (tlb as MmuGatherArch).arch;
  k.R(tlb.mm.usersId, E_USERS);
  yield;
  if (tlb.mm.mm_users < 2) {
    yield* k.pgtable_free(table, shift);
    return;
  }
  if (batchp.batch === null) {
    const page = yield* k.alloc_page(mmWorld(k.m).pa, GFP_ATOMIC, "pte_freelist_batch");
    if (page === null) {
      yield* k.pgtable_free_now(table, shift);
      return;
    }
    batchp.batch = new PteFreelistBatch(page);
    batchp.batch.index = 0;
  }
  k.BUG_ON(shift > MAX_PGTABLE_INDEX_SIZE, "bug-on", `pgtable_free_tlb: shift ${shift}`);
  const pgf = table + shift; // table | shift: the table is aligned, its low bits are zero
  const b = batchp.batch;
  b.tables[b.index++] = pgf;
  if (b.index === PTE_FREELIST_SIZE(k)) {
    yield* k.pte_free_submit(b);
    batchp.batch = null;
  }
}

/** pte_free_finish (from tlb_flush): submit a partly filled batch. */
export function* pte_free_finish(k: RK, tlb: MmuGather): Gen {
  const batchp = (tlb as MmuGatherArch).arch;
  if (batchp.batch === null) return;
  yield* k.pte_free_submit(batchp.batch);
  batchp.batch = null;
}
