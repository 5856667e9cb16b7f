// The POWER hash MMU (no kernel file: what the kernel relies on, ISA 2.0x era): per-core TLBs shared by the
// core's threads, filled from the HPT. One user access is ONE step touching the core TLB, both PTEGs and the
// frame: tlbie's completion rule makes a half-done translation unobservable. The invariants hpte-multi-hit,
// use-after-free and stale-translation are checked here, where the access happens. The segment lookup (SLB)
// is the kernel's VSID function, handed in by whoever builds the MMU.

import { READ, WRITE } from "../sim/machine";
import { event } from "../sim/event";
import "./costs";
import type { KernelBase } from "../sim/kernel";
import { checkFrameAccess } from "../sim/page_alloc";
import type { MmStruct, MmWorld } from "../mm/mm_types";
import { pte_pfn, pte_present, pte_str } from "../mm/pgtable";
import { HwTlb, TLB_C, TLB_W } from "./tlb";
import { HwAccessPath } from "./access";
import { Hpt, HPTES_PER_GROUP, HPTE_R_C, HPTE_R_PP, HPTE_R_R, PP_RW, va_to_vpn } from "./hpt";

export interface HashMmuConfig {
  /** PTEGs in the HPT (a power of two): 2-4 for searches, thousands for workloads. */
  ptegs: number;
  /** TLB entries per core. */
  tlbEntries?: number;
}

const E_LOAD = event("(hw) load", "TLB → HPT translate and load", { cost: "mem" });
const E_STORE = event("(hw) store", "TLB → HPT translate and store", { cost: "mem" });

export const ACCESS_OK = 0;
export const ACCESS_HPT_MISS = 1;
export const ACCESS_PROT = 2;

/** The hash MMU of one machine: HPT + per-core TLBs, and the pending user accesses it keeps announced. */
export class PpcHw extends HwAccessPath<KernelBase, number> {
  protected readonly loadEvent = E_LOAD;
  protected readonly storeEvent = E_STORE;
  readonly hpt: Hpt;
  readonly tlb: HwTlb;
  /** [tlb obj, WRITE, …] for every core: what a tlbie touches. */
  readonly allObjs: number[] = [];
  constructor(
    w: MmWorld,
    cfg: HashMmuConfig,
    readonly vsidOf: (context: number, ea: number) => number,
  ) {
    super(w);
    const m = w.m;
    this.hpt = new Hpt(m, cfg.ptegs);
    this.tlb = new HwTlb(m, cfg.tlbEntries ?? 8);
    for (let c = 0; c < this.tlb.cores; c++) this.allObjs.push(this.tlb.obj(c), WRITE);
  }

  /** Objects one access touches: core TLB, both PTEGs, every frame a current translation could give, the PTE (ghost). */
  announceList(cpu: number, mm: MmStruct, ea: number, write: boolean): number[] {
    const w = this.w;
    const vpn = va_to_vpn(this.vsidOf(mm.contextId, ea), ea);
    const core = w.m.coreOf(cpu);
    const p = this.hpt.group(vpn, false);
    const s = this.hpt.group(vpn, true);
    const kind = write ? WRITE : READ;
    const out = [this.tlb.obj(core), WRITE, this.hpt.obj(p), WRITE];
    if (s !== p) out.push(this.hpt.obj(s), WRITE);
    const t = this.tlb.lookup(core, vpn);
    if (t >= 0) out.push(w.pa.frames[this.tlb.pfn[t]].id, kind);
    for (const slot of this.hpt.findAll(vpn)) out.push(w.pa.frames[this.hpt.rpn[slot]].id, kind);
    const ptep = w.lookup(mm, ea);
    if (ptep !== null) out.push(ptep.id, READ);
    return out;
  }

  /** The hardware's translation and access, inside one step. */
  translate(k: KernelBase, mm: MmStruct, ea: number, write: boolean): number {
    const w = this.w;
    const hpt = this.hpt;
    const tlb = this.tlb;
    const cpu = k.cpu();
    const core = w.m.coreOf(cpu);
    const vpn = va_to_vpn(this.vsidOf(mm.contextId, ea), ea);
    let pfn: number;
    let gen: number;
    let via: string;
    const t = tlb.lookup(core, vpn);
    if (t >= 0) {
      if (write && (tlb.flags[t] & TLB_W) === 0) return ACCESS_PROT;
      if (write && (tlb.flags[t] & TLB_C) === 0) {
        for (const s of hpt.findAll(vpn)) hpt.r[s] |= HPTE_R_C;
        tlb.flags[t] |= TLB_C;
      }
      pfn = tlb.pfn[t];
      gen = tlb.gen[t];
      via = `core ${core} TLB`;
    } else {
      const hits = hpt.findAll(vpn);
      if (hits.length > 1) {
        k.violation(
          "hpte-multi-hit",
          `cpu${cpu} ${write ? "store" : "load"} at 0x${ea.toString(16)}: ${hits.length} valid HPTEs match (slots ${hits.join(", ")} → pfn ${hits.map((s) => hpt.rpn[s]).join(", ")}); architecturally undefined`,
        );
        return ACCESS_OK;
      }
      if (hits.length === 0) return ACCESS_HPT_MISS;
      const s = hits[0];
      const writable = (hpt.r[s] & HPTE_R_PP) === PP_RW;
      if (write && !writable) return ACCESS_PROT;
      hpt.r[s] |= HPTE_R_R | (write ? HPTE_R_C : 0);
      pfn = hpt.rpn[s];
      gen = hpt.gen[s];
      tlb.fill(core, vpn, pfn, gen, (writable ? TLB_W : 0) | ((hpt.r[s] & HPTE_R_C) !== 0 ? TLB_C : 0));
      via = `HPTE slot ${s} (PTEG ${Math.floor(s / HPTES_PER_GROUP)})`;
    }
    const f = w.pa.frames[pfn];
    const who = `cpu${cpu} user ${write ? "store" : "load"} at 0x${ea.toString(16)} via ${via}`;
    if (!checkFrameAccess(k, f, gen, who)) return ACCESS_OK;
    const pte = w.pteValue(mm, ea);
    if (pte_present(pte, w.L) && pte_pfn(pte, w.L) !== pfn) {
      k.violation("stale-translation", `${who} reached pfn ${pfn}, but the Linux PTE now maps ${pte_str(pte, w.L)}`);
      return ACCESS_OK;
    }
    if (write) f.data = ++w.storeSeq;
    return ACCESS_OK;
  }
}
