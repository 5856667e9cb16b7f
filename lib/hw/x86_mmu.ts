// The x86 MMU (no kernel file: the architecture's rules, as the kernel relies on them): per-core TLBs shared
// by hyperthreads; a TLB entry caches whether the PTE was dirty, and only a dirty-cached entry lets a store
// bypass the page table. A store through a clean entry walks and sets the PTE's dirty bit (or faults if
// read-only). The hardware walks Linux's page tables itself (their format is architected).

import { READ, WRITE } from "../sim/machine";
import { event } from "../sim/event";
import type { KernelBase } from "../sim/kernel";
import { checkFrameAccess } from "../sim/page_alloc";
import type { MmStruct, MmWorld } from "../mm/mm_types";
import { pte_bits, pte_pfn, pte_present, pte_str, PAGE_SIZE } from "../mm/pgtable";
import { HwTlb, TLB_C, TLB_W } from "./tlb";
import { HwAccessPath } from "./access";

const E_LOAD = event("(hw) load", "TLB → page walk, load", { cost: "mem" });
const E_STORE = event("(hw) store", "TLB → page walk (sets D), store", { cost: "mem" });

/** The TLB tag of a user page: address-space context × 2^20 + page number. */
export const tagOf = (mm: MmStruct, ea: number): number => mm.contextId * 2 ** 20 + Math.floor(ea / PAGE_SIZE);

export class X86Hw extends HwAccessPath<KernelBase, boolean> {
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
  translate(k: KernelBase, mm: MmStruct, ea: number, write: boolean): boolean {
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
