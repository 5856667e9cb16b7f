// Models the per-CPU hash flush batch of arch/powerpc/mm/tlb_64.c and include/asm-powerpc/tlbflush.h, v2.6.22
// (after a741e67969577163 "[POWERPC] Make tlb flush batch use lazy MMU mode"): hpte_need_flush batches only
// between arch_enter_lazy_mmu_mode and arch_leave_lazy_mmu_mode, which generic code nests inside the PTE
// lock, and flushes at once otherwise. The v2.6.21 code and the 2022 change live in lib/fixes/lazy-mmu-batch.
// The batch is touched only by its own CPU's task, so its accesses are ordered by the CPU and need no lock.

import { Gen } from "../sim/machine";
import { event } from "../sim/event";
import { DEFINE_PER_CPU, PerCpu } from "../sim/percpu";
import type { Machine } from "../sim/machine";
import type { MmStruct, Ptep } from "../mm/mm_types";
import type { MmuGather } from "../mm/mmu_gather";
import { _PAGE_BUSY, _PAGE_HPTEFLAGS, _PAGE_PRESENT } from "./pgtable_ppc64";
import type { PK } from "./kernel";
import { get_vsid, va_to_vpn } from "./mmu_hash64";

/** PPC64_TLB_BATCH_NR: entries per batch (a scenario may shrink it to reach the "batch full" path). */
export const PPC64_TLB_BATCH_NR = 192;

/** struct ppc64_tlb_batch (`active` exists from v2.6.22). One mm and one page size per batch. */
export class Ppc64TlbBatch {
  active = 0;
  index = 0;
  mm: MmStruct | null = null;
  /** real_pte_t: the old PTE, which carries the hidx of its HPTE slot. */
  readonly pte: number[] = [];
  /** vaddr (later vpn): what flush_hash_page needs to find the slot. */
  readonly vaddr: number[] = [];
  psize = 0;
  constructor(readonly nr: number) {}
}

/** DEFINE_PER_CPU(struct ppc64_tlb_batch, ppc64_tlb_batch) on machine `m` (setup). */
export function defineTlbBatch(m: Machine, nr = PPC64_TLB_BATCH_NR): PerCpu<Ppc64TlbBatch> {
  const b = DEFINE_PER_CPU(m, "ppc64_tlb_batch", () => new Ppc64TlbBatch(nr));
  m.ext.ppc64_tlb_batch = b;
  return b;
}

export function ppc64_tlb_batch(m: Machine): PerCpu<Ppc64TlbBatch> {
  const b = m.ext.ppc64_tlb_batch as PerCpu<Ppc64TlbBatch> | undefined;
  if (!b) throw new Error("no ppc64_tlb_batch on this machine: call defineTlbBatch(m) in setup");
  return b;
}

/**
 * __get_cpu_var(ppc64_tlb_batch): with CONFIG_DEBUG_PREEMPT, using it preemptible is a kernel BUG report.
 * Called right after the step that announced the batch access, so a report lands on that step.
 */
export function thisBatch(k: PK): Ppc64TlbBatch {
  return ppc64_tlb_batch(k.m).on(k.smp_processor_id());
}

/** Object id of this CPU's batch, for announcing an access to it. */
export const batchId = (k: PK): number => ppc64_tlb_batch(k.m).id(k.cpu());

const E_QUEUE_NEW = event("hpte_need_flush", "queue flush in ppc64_tlb_batch", { cost: "mem" });
const E_DRAIN = event("__flush_tlb_pending", "drain ppc64_tlb_batch", { cost: "mem", counter: "batch flushes" });
export const E_ACTIVE = event("arch_enter_lazy_mmu_mode", "batch->active = 1", { cost: "mem" });
export const E_INACTIVE = event("arch_leave_lazy_mmu_mode", "batch->active = 0", { cost: "mem" });

export const vpnOf = (mm: MmStruct, addr: number): number => va_to_vpn(get_vsid(mm.contextId, addr), addr);

// ---- v2.6.22: the fix -----------------------------------------------------------------------------------

/**
 * hpte_need_flush (v2.6.22): flush now (global) unless this CPU has an active batch, else queue; a batch
 * holds one mm and one page size and is flushed when full. Caller must be non-preemptible.
 */
export function* hpte_need_flush(k: PK, mm: MmStruct, addr: number, _ptep: Ptep, pte: number, _huge: boolean): Gen {
  const batch = thisBatch(k);
  const psize = 0;
  const vaddr = vpnOf(mm, addr);
  if (!batch.active) {
    yield* k.flush_hash_page(vaddr, pte, false);
    return;
  }
  k.W(batchId(k), E_QUEUE_NEW);
  yield;
  let i = batch.index;
  if (i !== 0 && (mm !== batch.mm || batch.psize !== psize)) {
    yield* k.__flush_tlb_pending(batch);
    i = 0;
  }
  if (i === 0) {
    batch.mm = mm;
    batch.psize = psize;
  }
  batch.pte[i] = pte;
  batch.vaddr[i] = vaddr;
  batch.index = ++i;
  if (i >= batch.nr) yield* k.__flush_tlb_pending(batch);
}

/** __flush_tlb_pending (v2.6.22): no get_cpu and no in_interrupt check: the caller is non-preemptible. */
export function* __flush_tlb_pending(k: PK, batch: Ppc64TlbBatch): Gen {
  yield* drain(k, batch, k.smp_processor_id());
}

/** arch_enter_lazy_mmu_mode (v2.6.22): batch->active = 1. */
export function* arch_enter_lazy_mmu_mode(k: PK): Gen {
  k.W(batchId(k), E_ACTIVE);
  yield;
  thisBatch(k).active = 1;
}

/** arch_leave_lazy_mmu_mode (v2.6.22): flush what the section queued, then batch->active = 0. */
export function* arch_leave_lazy_mmu_mode(k: PK): Gen {
  const batch = thisBatch(k);
  if (batch.index) yield* k.__flush_tlb_pending(batch);
  k.W(batchId(k), E_INACTIVE);
  yield;
  batch.active = 0;
}

/**
 * tlb_flush (v2.6.22, tlb_64.c): a batch still pending is flushed before the pages are freed. Taken with
 * get_cpu_var as tlb_hash64.c does from v3.0, when the mmu_gather became preemptible; under v2.6.22's
 * per-CPU gather preemption is already off, so the extra disable changes nothing there.
 */
export function* tlb_flush(k: PK, _tlb: MmuGather): Gen {
  yield* k.preempt_disable();
  const batch = thisBatch(k);
  if (batch.index) yield* k.__flush_tlb_pending(batch);
  yield* k.preempt_enable();
}

/** flush_tlb_page (v2.6.22 hash64): empty; every PTE change already flushed or is batched under the PTL. */
export function* flush_tlb_page(_k: PK, _mm: MmStruct, _addr: number): Gen {}

// ---- shared ---------------------------------------------------------------------------------------------

/** The flush itself (the body __flush_tlb_pending has in every era): one entry → flush_hash_page, more → flush_hash_range; local when only this CPU ran the mm. */
export function* drain(k: PK, batch: Ppc64TlbBatch, cpu: number): Gen {
  const pc = ppc64_tlb_batch(k.m);
  k.W(pc.id(cpu), E_DRAIN);
  yield;
  const n = batch.index;
  const local = batch.mm !== null && batch.mm.cpu_vm_mask === 1 << cpu;
  k.sample("batch size at flush", n);
  if (n === 1) yield* k.flush_hash_page(batch.vaddr[0], batch.pte[0], local);
  else yield* k.flush_hash_range(batch.vaddr.slice(0, n), batch.pte.slice(0, n), local);
  batch.index = 0;
}
