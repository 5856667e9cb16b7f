// Models the x86 MMU rules and arch/x86 PTE/TLB helpers (v3.14) for comparisons: a TLB entry caches whether
// the PTE was dirty; only a dirty-cached entry lets a store bypass the page table. A store through a clean
// entry walks and sets the PTE's dirty bit (or faults if read-only). TLB shootdown is modelled as one step
// invalidating every core's TLB (the initiator waits for all IPIs; IPI latency is timed mode's business).

import { Gen, READ, WRITE } from "../sim/machine";
import { PendingHwAccesses } from "../mm/hw_access";
import { event } from "../sim/event";
import { checkFrameAccess } from "../sim/page_alloc";
import type { K } from "../mm/kernel";
import { MmStruct, MmWorld, Ptep, mmWorld } from "../mm/mm_types";
import type { MmuGather } from "../mm/mmu_gather";
import { HwTlb, TLB_C, TLB_W } from "../mm/hwtlb";
import { pte_bits, pte_pfn, pte_present, pte_str, PAGE_SIZE } from "../mm/pgtable";

const E_LOAD = event("(hw) load", "TLB → page walk, load", { cost: "mem" });
const E_STORE = event("(hw) store", "TLB → page walk (sets D), store", { cost: "mem" });
const E_XCHG = event("ptep_get_and_clear", "xchg PTE", { cost: "atomic" });
const E_SET = event("set_pte_at", "store PTE", { cost: "mem" });
const E_CLR = event("ptep_set_wrprotect", "clear RW", { cost: "atomic" });
const E_FLAGS = event("ptep_set_access_flags", "OR in bits", { cost: "mem" });
const E_SHOOT = event("flush_tlb_mm_range", "shootdown: every core's TLB", { cost: "tlb_shootdown", counter: "tlb shootdowns" });

const tagOf = (mm: MmStruct, ea: number): number => mm.contextId * 2 ** 20 + Math.floor(ea / PAGE_SIZE);

export class X86Hw extends PendingHwAccesses<K, boolean> {
  protected readonly loadEvent = E_LOAD;
  protected readonly storeEvent = E_STORE;
  readonly tlb: HwTlb;
  readonly allObjs: number[] = [];
  constructor(w: MmWorld, tlbEntries: number) {
    super(w);
    this.tlb = new HwTlb(w.m, tlbEntries);
    for (let c = 0; c < this.tlb.cores; c++) this.allObjs.push(this.tlb.obj(c), WRITE);
  }
  announceList(cpu: number, mm: MmStruct, ea: number, write: boolean): number[] {
    const w = this.w;
    const core = w.m.coreOf(cpu);
    const kind = write ? WRITE : READ;
    const out = [this.tlb.obj(core), WRITE];
    const t = this.tlb.lookup(core, tagOf(mm, ea));
    if (t >= 0) out.push(w.pa.frames[this.tlb.pfn[t]].id, kind);
    const ptep = w.lookup(mm, ea);
    if (ptep !== null) {
      out.push(ptep.id, kind, ptep.pt.frame.id, READ);
      const v = ptep.v;
      if (pte_present(v, w.L)) out.push(w.pa.frames[pte_pfn(v, w.L)].id, kind);
    }
    return out;
  }
  /** One access; false = page fault. */
  translate(k: K, mm: MmStruct, ea: number, write: boolean): boolean {
    const w = this.w;
    const L = w.L;
    const cpu = k.cpu();
    const core = w.m.coreOf(cpu);
    const tag = tagOf(mm, ea);
    const t = this.tlb.lookup(core, tag);
    let pfn: number;
    let gen: number;
    let via = `core ${core} TLB`;
    if (t >= 0 && (!write || (this.tlb.flags[t] & (TLB_W | TLB_C)) === (TLB_W | TLB_C))) {
      pfn = this.tlb.pfn[t];
      gen = this.tlb.gen[t];
    } else {
      // Walk: a store through a clean or missing entry must find a present, writable PTE and set its D bit.
      if (t >= 0) this.tlb.tag[t] = -1;
      via = "page walk";
      const ptep = w.lookup(mm, ea);
      if (ptep === null) return false;
      const v = ptep.v;
      if (!pte_present(v, L) || (write && (v & L.RW) === 0)) return false;
      if (write) ptep.v = pte_bits(v, 0, L.DIRTY | L.ACCESSED);
      pfn = pte_pfn(v, L);
      gen = w.pa.frames[pfn].gen;
      this.tlb.fill(core, tag, pfn, gen, ((v & L.RW) !== 0 ? TLB_W : 0) | ((ptep.v & L.DIRTY) !== 0 ? TLB_C : 0));
    }
    const f = w.pa.frames[pfn];
    const who = `cpu${cpu} user ${write ? "store" : "load"} at 0x${ea.toString(16)} via ${via}`;
    if (!checkFrameAccess(k, f, gen, who)) return true;
    const pte = w.pteValue(mm, ea);
    if (pte_present(pte, L) && pte_pfn(pte, L) !== pfn) {
      k.violation("stale-translation", `${who} reached pfn ${pfn}, but the Linux PTE now maps ${pte_str(pte, L)}`);
      return true;
    }
    if (write) f.data = ++w.storeSeq;
    return true;
  }
}

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
  mm.w.changed();
  return old;
}

export function* set_pte_at(k: K, mm: MmStruct, addr: number, ptep: Ptep, pte: number): Gen {
  void addr;
  k.W(ptep.id, E_SET);
  yield;
  ptep.v = pte;
  mm.w.changed();
}

export function* ptep_set_wrprotect(k: K, mm: MmStruct, addr: number, ptep: Ptep): Gen {
  void addr;
  k.W(ptep.id, E_CLR);
  yield;
  ptep.v = pte_bits(ptep.v, mm.w.L.RW, 0);
  mm.w.changed();
}

export function* ptep_set_access_flags(k: K, mm: MmStruct, addr: number, ptep: Ptep, bits: number): Gen {
  void addr;
  k.W(ptep.id, E_FLAGS);
  yield;
  ptep.v = pte_bits(ptep.v, 0, bits);
  mm.w.changed();
}

/** ptep_test_and_clear_young: clear the accessed bit (the flush, if any, is the caller's flush_tlb_page). */
export function* ptep_test_and_clear_young(k: K, mm: MmStruct, addr: number, ptep: Ptep): Gen<boolean> {
  void addr;
  k.W(ptep.id, E_YOUNG);
  yield;
  const old = ptep.v;
  ptep.v = pte_bits(old, mm.w.L.ACCESSED, 0);
  mm.w.changed();
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
    w.changed();
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
  w.changed();
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
