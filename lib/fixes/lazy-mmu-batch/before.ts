// Fix 000's "before": the functions a741e67969577163 changed, as v2.6.21 had them (arch/powerpc/mm/tlb_64.c,
// include/asm-powerpc/pgtable-ppc64.h and tlbflush.h). hpte_update queues every hash flush in the per-CPU
// ppc64_tlb_batch; flush_tlb_pending drains it from tlb_flush (tlb_finish_mmu), flush_tlb_page/mm/range,
// set_pte_at and __switch_to: after zap_pte_range has dropped the PTE lock.

import { Gen, WRITE } from "../../sim/machine";
import { event } from "../../sim/event";
import { checkTable, pt_entry_announce } from "../../mm/pt_entry";
import type { MmStruct, Ptep } from "../../mm/mm_types";
import type { MmuGather } from "../../mm/mmu_gather";
import { pte_bits } from "../../mm/pgtable";
import { _PAGE_BUSY, _PAGE_HASHPTE, _PAGE_HPTEFLAGS, _PAGE_PRESENT } from "../../powerpc/pgtable_ppc64";
import type { PK } from "../../powerpc/kernel";
import { Ppc64TlbBatch, thisBatch, batchId, drain, vpnOf } from "../../powerpc/tlb_batch";

/** The v2.6.21 names that v2.6.22 removed, as seen through `k` (the before variant installs them). */
export interface PK2621 extends PK {
  hpte_update(mm: MmStruct, addr: number, ptep: Ptep, pte: number, huge: boolean): Gen;
  flush_tlb_pending(): Gen;
}

const E_QUEUE = event("hpte_update", "queue flush in ppc64_tlb_batch", { cost: "mem" });
const E_UPDATE = event("pte_update", "ldarx/stdcx.: clear bits (waits on _PAGE_BUSY)", { cost: "pte_update" });

/** hpte_update (v2.6.21): a PTE that had an HPTE changed: queue its flush; drained only by flush_tlb_pending. */
export function* hpte_update(k: PK2621, mm: MmStruct, addr: number, _ptep: Ptep, pte: number, _huge: boolean): Gen {
  k.W(batchId(k), E_QUEUE);
  yield;
  const batch = thisBatch(k);
  let i = batch.index;
  const psize = 0; // 4K pages only in this model
  // Memory pressure in the middle of a batch (copy_page_range) can switch mm: flush what we have.
  if (i !== 0 && (mm !== batch.mm || batch.psize !== psize)) {
    yield* k.flush_tlb_pending();
    i = 0;
  }
  if (i === 0) {
    batch.mm = mm;
    batch.psize = psize;
  }
  batch.vaddr[i] = vpnOf(mm, addr);
  batch.pte[i] = pte;
  batch.index = ++i;
  if (i >= batch.nr) yield* k.flush_tlb_pending();
}

/** flush_tlb_pending (v2.6.21): drain this CPU's batch if it holds anything. */
export function* flush_tlb_pending(k: PK2621): Gen {
  const batch = thisBatch(k);
  if (batch.index) yield* k.__flush_tlb_pending(batch);
}

/** __flush_tlb_pending (v2.6.21): BUG_ON(in_interrupt()), get_cpu, local if only this CPU ran the mm. */
export function* __flush_tlb_pending(k: PK2621, batch: Ppc64TlbBatch): Gen {
  k.BUG_ON(k.m.inInterrupt(), "bug-on", "__flush_tlb_pending called in interrupt");
  const cpu = yield* k.get_cpu();
  yield* drain(k, batch, cpu);
  yield* k.put_cpu();
}

/** tlb_flush (v2.6.21, asm-powerpc/tlb.h): flush_tlb_pending(); pte_free_finish(). */
export function* tlb_flush(k: PK2621, _tlb: MmuGather): Gen {
  yield* k.flush_tlb_pending();
}

/** flush_tlb_page / flush_tlb_mm / flush_tlb_range (v2.6.21): drain the batch. */
export function* flush_tlb_page(k: PK2621, _mm: MmStruct, _addr: number): Gen {
  yield* k.flush_tlb_pending();
}

/** pte_update (v2.6.21, pgtable-ppc64.h): clear bits once _PAGE_BUSY is free; an old HPTE's flush is queued by hpte_update. */
export function* pte_update(
  k: PK2621,
  mm: MmStruct,
  addr: number,
  ptep: Ptep,
  clr: number,
  huge: boolean,
): Gen<number> {
  pt_entry_announce(k, ptep.pt, ptep.id, WRITE, E_UPDATE, () => (ptep.v & _PAGE_BUSY) === 0);
  yield;
  if (!checkTable(k, ptep.pt, "pte_update")) return 0;
  const old = ptep.v;
  ptep.v = clr >= 0xffffffff ? 0 : pte_bits(old, clr, 0);
  if ((old & _PAGE_HASHPTE) !== 0) yield* k.hpte_update(mm, addr, ptep, old, huge);
  return old;
}

/** set_pte_at (v2.6.21): a present PTE is cleared and the batch drained before the new PTE is stored. */
export function* set_pte_at(k: PK2621, mm: MmStruct, addr: number, ptep: Ptep, pte: number): Gen {
  if ((ptep.v & _PAGE_PRESENT) !== 0) {
    yield* k.pte_update(mm, addr, ptep, 0xffffffff, false);
    yield* k.flush_tlb_pending();
  }
  k.wait(ptep.id, WRITE, E_SET, () => (ptep.v & _PAGE_BUSY) === 0);
  yield;
  ptep.v = pte_bits(pte, _PAGE_HPTEFLAGS, 0);
}
const E_SET = event("set_pte_at", "store PTE", { cost: "mem" });
