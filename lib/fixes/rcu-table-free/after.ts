// Fix 001's "after": 267239116987 "mm, powerpc: move the RCU page-table freeing into generic code" (Peter
// Zijlstra, v3.0-rc1). The batch moves into generic code (CONFIG_HAVE_RCU_TABLE_FREE, which powerpc selects if
// SMP): struct mmu_table_batch on tlb->batch, a page from __get_free_page(GFP_NOWAIT | __GFP_NOWARN),
// tlb_table_flush called by tlb_flush_mmu right after the arch's tlb_flush, and on allocation failure
// tlb_remove_table_one: smp_call_function(tlb_remove_table_smp_sync) and free. powerpc keeps only the encoding:
// pgtable_free_tlb packs the index size into the table pointer's low bits, __tlb_remove_table unpacks it.
// The gather layout is the commit's intermediate one (batch beside nr/max/pages), not v3.0's mmu_gather_batch.
// powerpc's tlb_flush loses its pte_free_finish: it is the base model's (lib/powerpc/tlb_batch.ts).

import type { Gen } from "../../sim/machine";
import type { KernelBase } from "../../sim/kernel";
import { GFP_NOWAIT } from "../../sim/page_alloc";
import type { PageFrame } from "../../sim/page_alloc";
import { event } from "../../sim/event";
import { MmuGather } from "../../mm/mmu_gather";
import type { MmStruct } from "../../mm/mm_types";
import { mmWorld } from "../../mm/mm_types";
import { PAGE_SIZE } from "../../mm/pgtable";
import { RK, MAX_PGTABLE_INDEX_SIZE, BATCH_HEADER_BYTES, batchCapacity, awaitingGracePeriod, tableBytes } from "./era";

/** struct mmu_table_batch: an rcu_head, nr and the tables (void *, here numbers) filling one page. */
export class MmuTableBatch {
  nr = 0;
  readonly tables: number[] = [];
  constructor(readonly page: PageFrame) {}
}

/** struct mmu_gather of 267239116987: the generic fields plus `batch` (CONFIG_HAVE_RCU_TABLE_FREE). */
export class MmuGatherRcu extends MmuGather {
  batch: MmuTableBatch | null = null;
}

/** MAX_TABLE_BATCH: (PAGE_SIZE - sizeof(struct mmu_table_batch)) / sizeof(void *) = 509 on 4K. */
export function MAX_TABLE_BATCH(k: KernelBase): number {
  return batchCapacity(k.m, (PAGE_SIZE - BATCH_HEADER_BYTES) / 8);
}

/** Bytes a submitted batch keeps from the allocator: its page and its tables (timed-mode gauge). */
export const batchBytes = (b: MmuTableBatch): number =>
  PAGE_SIZE + b.tables.slice(0, b.nr).reduce((n, t) => n + tableBytes(t % (MAX_PGTABLE_INDEX_SIZE + 1)), 0);

const E_USERS = event("tlb_remove_table", "atomic_read(&tlb->mm->mm_users)", { cost: "mem" });

/** tlb_gather_mmu (267239116987): an on-stack gather; tlb->batch = NULL. */
export function* tlb_gather_mmu(k: RK, mm: MmStruct, fullmm: boolean): Gen<MmuGather> {
  return new MmuGatherRcu(mm, fullmm, mm.w.gatherMax, k.cpu());
}

/** tlb_flush_mmu (267239116987): tlb_flush, then tlb_table_flush, then free the gathered pages. */
export function* tlb_flush_mmu(k: RK, tlb: MmuGather): Gen {
  if (!tlb.need_flush) return;
  tlb.need_flush = false;
  yield* k.tlb_flush(tlb);
  yield* k.tlb_table_flush(tlb);
  const pages = tlb.pages;
  tlb.pages = [];
  for (const p of pages) yield* k.put_page(p); // free_pages_and_swap_cache
}

/** tlb_remove_table_smp_sync: "Simply deliver the interrupt". */
export function* tlb_remove_table_smp_sync(_k: RK, _arg: unknown): Gen {}

function* tlb_remove_table_smp_sync_ipi(k: KernelBase, arg: unknown): Gen {
  yield* (k as RK).tlb_remove_table_smp_sync(arg);
}

/**
 * tlb_remove_table_one: no page for a batch. Not a grace period — the commit says so — but enough for walkers
 * that disable IRQs: once every other CPU has taken the IPI, none is still in a walk begun before the unlink.
 */
export function* tlb_remove_table_one(k: RK, table: number): Gen {
  k.count("tables freed after an IPI");
  yield* k.smp_call_function("tlb_remove_table_smp_sync", tlb_remove_table_smp_sync_ipi, null, true);
  yield* k.__tlb_remove_table(table);
}

/** tlb_remove_table_rcu: after the grace period, __tlb_remove_table each table, then free the batch page. */
export function* tlb_remove_table_rcu(k: RK, head: unknown): Gen {
  const batch = head as MmuTableBatch;
  for (let i = 0; i < batch.nr; i++) yield* k.__tlb_remove_table(batch.tables[i]);
  yield* k.free_page(mmWorld(k.m).pa, batch.page);
  awaitingGracePeriod(k, -batch.nr, -batchBytes(batch));
}

function* tlb_remove_table_rcu_cb(k: KernelBase, head: unknown): Gen {
  yield* (k as RK).tlb_remove_table_rcu(head);
}

/** tlb_table_flush: hand the batch, if any, to call_rcu_sched. */
export function* tlb_table_flush(k: RK, tlb: MmuGather): Gen {
  const g = tlb as MmuGatherRcu;
  if (g.batch !== null) {
    k.count("table batches submitted");
    awaitingGracePeriod(k, g.batch.nr, batchBytes(g.batch));
    yield* k.call_rcu_sched("tlb_remove_table_rcu", tlb_remove_table_rcu_cb, g.batch);
    g.batch = null;
  }
}

/**
 * tlb_remove_table: need_flush = 1; free at once if the mm has fewer than two users ("there cannot be a
 * concurrent page-table walk"); else queue the table in tlb->batch, allocating its page with
 * GFP_NOWAIT | __GFP_NOWARN (on failure, tlb_remove_table_one), and flush the batch when full.
 */
export function* tlb_remove_table(k: RK, tlb: MmuGather, table: number): Gen {
  const g = tlb as MmuGatherRcu;
  tlb.need_flush = true;
  k.R(tlb.mm.usersId, E_USERS);
  yield;
  if (tlb.mm.mm_users < 2) {
    yield* k.__tlb_remove_table(table);
    return;
  }
  if (g.batch === null) {
    const page = yield* k.alloc_page(mmWorld(k.m).pa, GFP_NOWAIT, "mmu_table_batch"); // | __GFP_NOWARN
    if (page === null) {
      yield* k.tlb_remove_table_one(table);
      return;
    }
    g.batch = new MmuTableBatch(page);
    g.batch.nr = 0;
  }
  g.batch.tables[g.batch.nr++] = table;
  if (g.batch.nr === MAX_TABLE_BATCH(k)) yield* k.tlb_table_flush(tlb);
}

/** pgtable_free_tlb (powerpc pgalloc.h, 267239116987, SMP): pack the index size into the pointer, tlb_remove_table. */
export function* pgtable_free_tlb(k: RK, tlb: MmuGather, table: number, shift: number): Gen {
  let pgf = table;
  k.BUG_ON(shift > MAX_PGTABLE_INDEX_SIZE, "bug-on", `pgtable_free_tlb: shift ${shift}`);
  pgf += shift; // pgf |= shift: the table is aligned, its low bits are zero
  yield* k.tlb_remove_table(tlb, pgf);
}

/** __tlb_remove_table (powerpc pgalloc.h): unpack the pointer and the index size, pgtable_free. */
export function* __tlb_remove_table(k: RK, _table: number): Gen {
  const shift = _table % (MAX_PGTABLE_INDEX_SIZE + 1); // _table & MAX_PGTABLE_INDEX_SIZE
  const table = _table - shift; // _table & ~MAX_PGTABLE_INDEX_SIZE
  yield* k.pgtable_free(table, shift);
}
