// Models arch/x86's PTE and TLB helpers (v3.14: arch/x86/include/asm/pgtable.h, arch/x86/mm/tlb.c,
// arch/x86/include/asm/tlb.h) for comparisons, driving the x86 MMU of lib/hw/x86_mmu.ts. A TLB shootdown is
// what v3.14 does: flush this CPU's TLB, then flush_tlb_others → native_flush_tlb_others →
// smp_call_function_many(flush_tlb_func, wait=1): each other CPU of mm_cpumask flushes its own TLB in its IPI
// handler, and the initiator waits for every handler, so a CPU running with IRQs off holds the shootdown off.

import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import type { KernelBase } from "../sim/kernel";
import type { K } from "../mm/kernel";
import type { XK } from "./kernel";
import { MmStruct, MmWorld, Ptep, mmWorld } from "../mm/mm_types";
import type { MmuGather } from "../mm/mmu_gather";
import { pte_bits, PAGE_SIZE } from "../mm/pgtable";
import { X86Hw, tagOf } from "../hw/x86_mmu";

const E_XCHG = event("ptep_get_and_clear", "xchg PTE", { cost: "atomic" });
const E_SET = event("set_pte_at", "store PTE", { cost: "mem" });
const E_CLR = event("ptep_set_wrprotect", "clear RW", { cost: "atomic" });
const E_FLAGS = event("ptep_set_access_flags", "OR in bits", { cost: "mem" });

export function x86Hw(w: MmWorld): X86Hw {
  if (!(w.hw instanceof X86Hw)) throw new Error("no x86 MMU on this machine: call x86Mmu(w) in setup");
  return w.hw;
}

/** x86Mmu: give an MmWorld (built with layout X86) per-core x86 TLBs. */
export function x86Mmu(w: MmWorld, cfg: { tlbEntries?: number } = {}): X86Hw {
  const hw = new X86Hw(w, cfg.tlbEntries ?? 8);
  w.hw = hw;
  return hw;
}

export function* user_access(k: K, mm: MmStruct, ea: number, write: boolean): Gen<boolean> {
  const hw = x86Hw(mmWorld(k.m));
  for (;;) {
    if (yield* hw.access(k, mm, ea, write)) return true;
    if ((yield* k.do_page_fault(mm, ea, write)) !== 0) return false;
  }
}

export function* ptep_get_and_clear(k: K, _mm: MmStruct, _addr: number, ptep: Ptep): Gen<number> {
  k.W(ptep.id, E_XCHG);
  yield;
  const old = ptep.v;
  ptep.v = 0;
  return old;
}

export function* set_pte_at(k: K, _mm: MmStruct, _addr: number, ptep: Ptep, pte: number): Gen {
  k.W(ptep.id, E_SET);
  yield;
  ptep.v = pte;
}

export function* ptep_set_wrprotect(k: K, mm: MmStruct, _addr: number, ptep: Ptep): Gen {
  k.W(ptep.id, E_CLR);
  yield;
  ptep.v = pte_bits(ptep.v, mm.w.L.RW, 0);
}

export function* ptep_set_access_flags(k: K, _mm: MmStruct, _addr: number, ptep: Ptep, bits: number): Gen {
  k.W(ptep.id, E_FLAGS);
  yield;
  ptep.v = pte_bits(ptep.v, 0, bits);
}

/** ptep_test_and_clear_young: clear the accessed bit (the flush, if any, is the caller's flush_tlb_page). */
export function* ptep_test_and_clear_young(k: K, mm: MmStruct, _addr: number, ptep: Ptep): Gen<boolean> {
  k.W(ptep.id, E_YOUNG);
  yield;
  const old = ptep.v;
  ptep.v = pte_bits(old, mm.w.L.ACCESSED, 0);
  return (old & mm.w.L.ACCESSED) !== 0;
}
const E_YOUNG = event("ptep_test_and_clear_young", "clear accessed bit", { cost: "atomic" });

/** TLB_FLUSH_ALL (-1UL): an `end` meaning every address of the mm. */
export const TLB_FLUSH_ALL = -1;

/**
 * tlb_flushall_shift and tlb_lld_4k[ENTRIES] (v3.14, arch/x86/kernel/cpu/{common,intel}.c): SandyBridge's 6 and
 * its 512-entry last-level dTLB, so a range of more than 512 >> 6 = 8 pages (or total_vm) is flushed whole.
 * The kernel's numbers, not the model's tiny HwTlb: they only pick INVLPGs or a CR3 reload.
 */
export const tlb_flushall_shift: number = 6;
export const tlb_lld_4k_entries = 512;

/** struct flush_tlb_info: what native_flush_tlb_others hands each flush_tlb_func (on its stack: wait=1). */
export class FlushTlbInfo {
  constructor(
    readonly flush_mm: MmStruct,
    readonly flush_start: number,
    readonly flush_end: number,
  ) {}
}

/**
 * cpu_tlbstate.active_mm == mm, as far as this model can know it: the model's switch_mm never reloads CR3 nor
 * leaves an mm, so a CPU in mm_cpumask may hold mm's translations whatever it runs now. (A ghost read of the
 * mask, as on powerpc: switch_mm alone writes it, and scenarios set it up front.)
 */
function tlb_holds_mm(mm: MmStruct, cpu: number): boolean {
  return (mm.cpu_vm_mask & (1 << cpu)) !== 0;
}

/** cpumask_any_but(mm_cpumask(mm), cpu) < nr_cpu_ids: some other CPU may hold mm's translations. */
function others_in_mask(mm: MmStruct, cpu: number): boolean {
  return (mm.cpu_vm_mask & ~(1 << cpu)) !== 0;
}

/** mm->total_vm in pages (a ghost: the caller holds mmap_sem, and the model's vmas never change). */
function total_vm(mm: MmStruct): number {
  let n = 0;
  for (const v of mm.vmas) n += (v.end - v.start) / PAGE_SIZE;
  return n;
}

/** local_flush_tlb (__flush_tlb: CR3 reload): every user translation of this CPU's TLB goes. */
export function* local_flush_tlb(k: XK): Gen {
  const w = mmWorld(k.m);
  const hw = x86Hw(w);
  const core = w.m.coreOf(k.cpu());
  k.W(hw.tlb.obj(core), E_CR3);
  yield;
  hw.tlb.invalidateWhere(core, () => true);
}
const E_CR3 = event("local_flush_tlb", "reload CR3: flush this CPU's TLB", {
  cost: "cr3_flush",
  counter: "full tlb flushes",
});

/** __flush_tlb_single (INVLPG): one page of this CPU's TLB. `mm` is the address space CR3 holds (the caller checked). */
export function* __flush_tlb_single(k: XK, mm: MmStruct, addr: number): Gen {
  const w = mmWorld(k.m);
  const hw = x86Hw(w);
  const core = w.m.coreOf(k.cpu());
  k.W(hw.tlb.obj(core), E_INVLPG);
  yield;
  hw.tlb.invalidate(core, tagOf(mm, addr));
}
const E_INVLPG = event("__flush_tlb_single", "INVLPG one page", { cost: "invlpg", counter: "invlpg" });

/**
 * flush_tlb_func (v3.14): the IPI handler, on each target CPU with IRQs off: flush the range of the info, one
 * page (flush_end 0) or everything (TLB_FLUSH_ALL). The lazy-TLB leave_mm branch is not modelled (no lazy mode).
 */
export function* flush_tlb_func(k: XK, f: FlushTlbInfo): Gen {
  k.count("tlb flush IPIs received"); // inc_irq_stat(irq_tlb_count)
  if (!tlb_holds_mm(f.flush_mm, k.cpu())) return; // f->flush_mm != cpu_tlbstate.active_mm
  if (f.flush_end === TLB_FLUSH_ALL) yield* k.local_flush_tlb();
  else if (f.flush_end === 0) yield* k.__flush_tlb_single(f.flush_mm, f.flush_start);
  else
    for (let addr = f.flush_start; addr < f.flush_end; addr += PAGE_SIZE) yield* k.__flush_tlb_single(f.flush_mm, addr);
}

/** What smp_call_function_many runs on each target: flush_tlb_func, called through `k` so it can be replaced. */
function* flush_tlb_func_ipi(k: KernelBase, info: unknown): Gen {
  yield* (k as XK).flush_tlb_func(info as FlushTlbInfo);
}

/**
 * native_flush_tlb_others (v3.14): run flush_tlb_func on every other CPU of `cpumask` and wait for all of
 * them (smp_call_function_many, wait=1). The UV BAU path is not modelled.
 */
export function* native_flush_tlb_others(k: XK, cpumask: number, mm: MmStruct, start: number, end: number): Gen {
  k.count("tlb shootdowns"); // NR_TLB_REMOTE_FLUSH
  yield* k.smp_call_function_many(
    cpumask,
    "flush_tlb_func",
    flush_tlb_func_ipi,
    new FlushTlbInfo(mm, start, end),
    true,
  );
}

/** flush_tlb_others: the paravirt hook; native_flush_tlb_others on bare metal. */
export function* flush_tlb_others(k: XK, cpumask: number, mm: MmStruct, start: number, end: number): Gen {
  yield* k.native_flush_tlb_others(cpumask, mm, start, end);
}

/**
 * flush_tlb_mm_range (v3.14): with preemption off, flush this CPU's TLB if it runs `mm` (INVLPG per page, or a
 * CR3 reload for TLB_FLUSH_ALL or more than min(tlb_lld_4k >> tlb_flushall_shift, total_vm) pages), then, if
 * another CPU is in mm_cpumask, flush_tlb_others for the same range (everything, after a full local flush).
 */
export function* flush_tlb_mm_range(k: XK, mm: MmStruct, start: number, end: number, _vmflag = 0): Gen {
  // VM_HUGETLB / VM_EXEC choose the flush-all path or the iTLB size: no huge pages or text here
  yield* k.preempt_disable();
  const me = k.cpu();
  let local = false;
  let others_start = 0;
  let others_end = TLB_FLUSH_ALL;
  if (tlb_holds_mm(mm, me)) {
    local = true;
    if (end === TLB_FLUSH_ALL || tlb_flushall_shift === -1) yield* k.local_flush_tlb();
    else {
      const act_entries = Math.min(tlb_lld_4k_entries >> tlb_flushall_shift, total_vm(mm));
      const nr_base_pages = (end - start) / PAGE_SIZE;
      if (nr_base_pages > act_entries) yield* k.local_flush_tlb();
      else {
        for (let addr = start; addr < end; addr += PAGE_SIZE) yield* k.__flush_tlb_single(mm, addr);
        others_start = start;
        others_end = end;
      }
    }
  }
  if (others_in_mask(mm, me)) yield* k.flush_tlb_others(mm.cpu_vm_mask, mm, others_start, others_end);
  else if (local) k.count("local tlb flushes"); // a flush that needed no IPI
  yield* k.preempt_enable();
}

/**
 * flush_tlb_mm (v3.14 tlbflush.h: flush_tlb_mm_range(mm, 0UL, TLB_FLUSH_ALL, 0UL)): every translation of `mm`,
 * here and on each other CPU of mm_cpumask. v3.0's flush_tlb_mm did the same (local_flush_tlb if this CPU runs
 * mm, then flush_tlb_others(mm_cpumask, mm, TLB_FLUSH_ALL)); v3.0's tlb_flush was flush_tlb_mm(tlb->mm).
 */
export function* flush_tlb_mm(k: XK, mm: MmStruct): Gen {
  yield* k.flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, 0);
}

/** flush_tlb_page (v3.14): INVLPG here if this CPU runs `mm` (__flush_tlb_one), then the other CPUs (flush_end 0). */
export function* flush_tlb_page(k: XK, mm: MmStruct, addr: number): Gen {
  yield* k.preempt_disable();
  const me = k.cpu();
  const local = tlb_holds_mm(mm, me);
  if (local) yield* k.__flush_tlb_single(mm, addr);
  if (others_in_mask(mm, me)) yield* k.flush_tlb_others(mm.cpu_vm_mask, mm, addr, 0);
  else if (local) k.count("local tlb flushes");
  yield* k.preempt_enable();
}

/**
 * tlb_flush (v3.14, arch/x86/include/asm/tlb.h): the gathered range, or everything for a full-mm teardown.
 * The range is reset here, as the model's gathers expect of every arch's tlb_flush.
 */
export function* tlb_flush(k: XK, tlb: MmuGather): Gen {
  if (tlb.fullmm) yield* k.flush_tlb_mm_range(tlb.mm, 0, TLB_FLUSH_ALL, 0);
  else if (tlb.end > tlb.start) yield* k.flush_tlb_mm_range(tlb.mm, tlb.start, tlb.end, 0);
  tlb.start = Infinity;
  tlb.end = 0;
}

/** The shootdown path: x86-only names, with no counterpart in other arch tables. */
export const x86FlushOps = {
  flush_tlb_mm_range,
  flush_tlb_others,
  native_flush_tlb_others,
  flush_tlb_func,
  local_flush_tlb,
  __flush_tlb_single,
};

export const x86Ops = {
  ...x86FlushOps,
  user_access,
  ptep_get_and_clear,
  set_pte_at,
  ptep_set_wrprotect,
  ptep_set_access_flags,
  ptep_test_and_clear_young,
  flush_tlb_page,
  tlb_flush,
};
