// Models arch/x86's PTE and TLB helpers (v3.14: arch/x86/include/asm/pgtable.h, arch/x86/mm/tlb.c) for
// comparisons, driving the x86 MMU of lib/hw/x86_mmu.ts. TLB shootdown is modelled as one step invalidating
// every core's TLB (the initiator waits for all IPIs; IPI latency is timed mode's business).

import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import type { K } from "../mm/kernel";
import { MmStruct, MmWorld, Ptep, mmWorld } from "../mm/mm_types";
import type { MmuGather } from "../mm/mmu_gather";
import { pte_bits, PAGE_SIZE } from "../mm/pgtable";
import { X86Hw, tagOf } from "../hw/x86_mmu";

const E_XCHG = event("ptep_get_and_clear", "xchg PTE", { cost: "atomic" });
const E_SET = event("set_pte_at", "store PTE", { cost: "mem" });
const E_CLR = event("ptep_set_wrprotect", "clear RW", { cost: "atomic" });
const E_FLAGS = event("ptep_set_access_flags", "OR in bits", { cost: "mem" });
const E_SHOOT = event("flush_tlb_mm_range", "shootdown: every core's TLB", { cost: "tlb_shootdown", counter: "tlb shootdowns" });

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

export function* ptep_get_and_clear(k: K, mm: MmStruct, addr: number, ptep: Ptep): Gen<number> {
  void addr;
  k.W(ptep.id, E_XCHG);
  yield;
  const old = ptep.v;
  ptep.v = 0;
  return old;
}

export function* set_pte_at(k: K, mm: MmStruct, addr: number, ptep: Ptep, pte: number): Gen {
  void addr;
  k.W(ptep.id, E_SET);
  yield;
  ptep.v = pte;
}

export function* ptep_set_wrprotect(k: K, mm: MmStruct, addr: number, ptep: Ptep): Gen {
  void addr;
  k.W(ptep.id, E_CLR);
  yield;
  ptep.v = pte_bits(ptep.v, mm.w.L.RW, 0);
}

export function* ptep_set_access_flags(k: K, mm: MmStruct, addr: number, ptep: Ptep, bits: number): Gen {
  void addr;
  k.W(ptep.id, E_FLAGS);
  yield;
  ptep.v = pte_bits(ptep.v, 0, bits);
}

/** ptep_test_and_clear_young: clear the accessed bit (the flush, if any, is the caller's flush_tlb_page). */
export function* ptep_test_and_clear_young(k: K, mm: MmStruct, addr: number, ptep: Ptep): Gen<boolean> {
  void addr;
  k.W(ptep.id, E_YOUNG);
  yield;
  const old = ptep.v;
  ptep.v = pte_bits(old, mm.w.L.ACCESSED, 0);
  return (old & mm.w.L.ACCESSED) !== 0;
}
const E_YOUNG = event("ptep_test_and_clear_young", "clear accessed bit", { cost: "atomic" });

/**
 * flush_tlb_mm_range (v3.14, arch/x86/mm/tlb.c): if no other CPU is in mm_cpumask, invalidate this CPU's TLB
 * only (INVLPG); otherwise flush_tlb_others: one IPI per other CPU of the mask, and wait for all of them (one
 * step invalidating every core's TLB; the sender's per-target cost is one `ipi_send` step per extra target).
 */
export function* flush_tlb_mm_range(k: K, mm: MmStruct, start: number, end: number): Gen {
  const w = mmWorld(k.m);
  const hw = x86Hw(w);
  const me = k.cpu();
  const others = mm.cpu_vm_mask & ~(1 << me);
  if (others === 0) {
    const core = w.m.coreOf(me);
    k.W(hw.tlb.obj(core), E_LOCAL);
    yield;
    for (let a = start; a < end; a += PAGE_SIZE) hw.tlb.invalidate(core, tagOf(mm, a));
    return;
  }
  let targets = 0;
  for (let x = others; x !== 0; x &= x - 1) targets++;
  for (let i = 1; i < targets; i++) {
    k.local(E_IPI_SEND);
    yield;
  }
  k.multi(hw.allObjs, E_SHOOT);
  yield;
  for (let a = start; a < end; a += PAGE_SIZE) hw.tlb.invalidateAll(tagOf(mm, a));
}
const E_LOCAL = event("flush_tlb_mm_range", "local flush: INVLPG (mm ran on no other CPU)", { cost: "invlpg", counter: "local tlb flushes" });
const E_IPI_SEND = event("flush_tlb_others", "send one more IPI", { cost: "ipi_send" });

export function* flush_tlb_page(k: K, mm: MmStruct, addr: number): Gen {
  yield* flush_tlb_mm_range(k, mm, addr, addr + PAGE_SIZE);
}

export function* tlb_flush(k: K, tlb: MmuGather): Gen {
  if (tlb.end > tlb.start) yield* flush_tlb_mm_range(k, tlb.mm, tlb.start, tlb.end);
  tlb.start = Infinity;
  tlb.end = 0;
}

export const x86Ops = { user_access, ptep_get_and_clear, set_pte_at, ptep_set_wrprotect, ptep_set_access_flags, ptep_test_and_clear_young, flush_tlb_page, tlb_flush };
