// Fix 001's later history, 2018: "mm/tlb: Remove tlb_remove_table() non-concurrent condition" (Peter Zijlstra,
// Aug 2018, v4.19, Cc: stable, Fixes: 267239116987; posted as 20180822154046.772017055@infradead.org). Will
// Deacon noted that mm_users < 2 does not mean no concurrent walk: a CPU with a lazy reference (mm_count,
// active_mm) can still walk the mm's tables (speculative hardware walks), and neither does a kernel thread
// that use_mm()s an mm while holding only mm_count. The shortcut is removed: every table goes through the batch.

import type { Gen } from "../../sim/machine";
import { GFP_NOWAIT } from "../../sim/page_alloc";
import type { MmuGather } from "../../mm/mmu_gather";
import { mmWorld } from "../../mm/mm_types";
import type { RK } from "./era";
import { MmuGatherRcu, MmuTableBatch, MAX_TABLE_BATCH } from "./after";

/** tlb_remove_table (Aug 2018): batch every table; GFP_NOWAIT failure → tlb_remove_table_one. */
export function* tlb_remove_table(k: RK, tlb: MmuGather, table: number): Gen {
  const g = tlb as MmuGatherRcu;
  tlb.need_flush = true;
  if (g.batch === null) {
    const page = yield* k.alloc_page(mmWorld(k.m).pa, GFP_NOWAIT, "mmu_table_batch");
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
