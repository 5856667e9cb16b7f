// d86564a2f085 "mm/tlb, x86/mm: Support invalidating TLB caches for RCU_TABLE_FREE" (Peter Zijlstra, Aug 2018,
// v4.19, 20180822154046.823850812@infradead.org; after "Remove tlb_remove_table() non-concurrent condition",
// later.ts). Jann Horn found x86 (paravirt, which had selected HAVE_RCU_TABLE_FREE) freeing tables on the
// !*batch path with no TLB invalidate: RCU_TABLE_FREE "does not provide TLB (cache) invalidates" — powerpc-hash,
// where it came from, and sparc-hash did not need them. New: tlb_table_invalidate(), tlb_flush_mmu_tlbonly under
// CONFIG_HAVE_RCU_TABLE_INVALIDATE (x86 selects it; powerpc does not: Nick Piggin noted radix had the same
// breakage since a46cc7a90fd8), called before a batch goes to call_rcu_sched and before tlb_remove_table_one.

import type { Gen } from "../../sim/machine";
import { GFP_NOWAIT } from "../../sim/page_alloc";
import type { MmuGather } from "../../mm/mmu_gather";
import { mmWorld } from "../../mm/mm_types";
import { MmuGatherRcu, MmuTableBatch, MAX_TABLE_BATCH } from "./after";
import { awaitingGracePeriod } from "./era";
import { batchBytes } from "./after";
import type { RKW } from "./radix";

/**
 * tlb_table_invalidate (CONFIG_HAVE_RCU_TABLE_INVALIDATE=y): tlb_flush_mmu_tlbonly, "invalidate page-table caches
 * used by hardware walkers"; software walkers still need the grace period. (Tables were unlinked, so the range
 * the era's pte_free_tlb adjusted is not empty: tlbonly's `!tlb->end` check passes.)
 */
export function* tlb_table_invalidate(k: RKW, tlb: MmuGather): Gen {
  yield* k.tlb_flush(tlb);
}

/** tlb_table_flush (d86564a2f085): invalidate, then hand the batch to call_rcu_sched. */
export function* tlb_table_flush(k: RKW, tlb: MmuGather): Gen {
  const g = tlb as MmuGatherRcu;
  if (g.batch !== null) {
    yield* k.tlb_table_invalidate(tlb);
    k.count("table batches submitted");
    awaitingGracePeriod(k, g.batch.nr, batchBytes(g.batch));
    yield* k.call_rcu_sched("tlb_remove_table_rcu", tlb_remove_table_rcu_cb, g.batch);
    g.batch = null;
  }
}

function* tlb_remove_table_rcu_cb(k: unknown, head: unknown): Gen {
  yield* (k as RKW).tlb_remove_table_rcu(head);
}

/** tlb_remove_table (d86564a2f085): batch every table; no page → tlb_table_invalidate, tlb_remove_table_one. */
export function* tlb_remove_table(k: RKW, tlb: MmuGather, table: number): Gen {
  const g = tlb as MmuGatherRcu;
  tlb.need_flush = true;
  if (g.batch === null) {
    const page = yield* k.alloc_page(mmWorld(k.m).pa, GFP_NOWAIT, "mmu_table_batch");
    if (page === null) {
      yield* k.tlb_table_invalidate(tlb);
      yield* k.tlb_remove_table_one(table);
      return;
    }
    g.batch = new MmuTableBatch(page);
    g.batch.nr = 0;
  }
  g.batch.tables[g.batch.nr++] = table;
  if (g.batch.nr === MAX_TABLE_BATCH(k)) yield* k.tlb_table_flush(tlb);
}
