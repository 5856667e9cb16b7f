// Initial-state builder for the hash MMU (no kernel counterpart): a mapped page that has already been touched,
// so it has an HPTE (hidx saved, HASHPTE set) and, optionally, TLB entries on some cores.

import type { MmStruct } from "../mm/mm_types";
import { populate, PrefaultOptions } from "../mm/prefault";
import { pte_bits } from "../mm/pgtable";
import { _PAGE_DIRTY, _PAGE_HASHPTE, _PAGE_RW, pte_set_hidx } from "./pgtable_ppc64";
import {
  HPTES_PER_GROUP,
  HPTE_R_C,
  HPTE_V_SECONDARY,
  HPTE_V_VALID,
  PP_RO,
  PP_RW,
  get_vsid,
  va_to_vpn,
} from "./mmu_hash64";
import { ppcHw } from "./fault";
import { TLB_C, TLB_W } from "../hw/tlb";

export interface HashPrefaultOptions extends PrefaultOptions {
  /** Insert its HPTE (default true). */
  hash?: boolean;
  /** Cores whose TLB already caches the translation. */
  tlbCores?: number[];
}

/** populate + the HPTE hash_page would have inserted (+ TLB fills). Returns the pfn. */
export function prefault(mm: MmStruct, ea: number, opts: HashPrefaultOptions = {}): number {
  const w = mm.w;
  const pfn = populate(mm, ea, opts);
  if (opts.hash === false) return pfn;
  const hw = ppcHw(w);
  const hpt = hw.hpt;
  const ptep = w.lookup(mm, ea)!;
  const pte = ptep.v;
  const vpn = va_to_vpn(get_vsid(mm.contextId, ea), ea);
  const pp = (pte & _PAGE_RW) !== 0 && (pte & _PAGE_DIRTY) !== 0 ? PP_RW : PP_RO;
  const gen = w.pa.frames[pfn].gen;
  let hidx = -1;
  for (const secondary of [false, true]) {
    const g = hpt.group(vpn, secondary);
    for (let i = 0; i < HPTES_PER_GROUP && hidx < 0; i++) {
      if ((hpt.v[g + i] & HPTE_V_VALID) !== 0) continue;
      hpt.vpn[g + i] = vpn;
      hpt.rpn[g + i] = pfn;
      hpt.gen[g + i] = gen;
      hpt.r[g + i] = pp | HPTE_R_C;
      hpt.v[g + i] = HPTE_V_VALID | (secondary ? HPTE_V_SECONDARY : 0);
      hidx = i | (secondary ? 8 : 0);
    }
    if (hidx >= 0) break;
  }
  if (hidx < 0) throw new Error(`prefault: both PTEGs of 0x${ea.toString(16)} are full`);
  ptep.v = pte_bits(pte_set_hidx(pte, hidx), 0, _PAGE_HASHPTE);
  for (const core of opts.tlbCores ?? []) {
    hw.tlb.fill(core, vpn, pfn, gen, (pp === PP_RW ? TLB_W : 0) | TLB_C);
    // A core can only cache the mm's translations if one of its threads ran the mm: cpu_vm_mask says so,
    // and flushes decide tlbie vs tlbiel from it.
    mm.cpu_vm_mask |= 1 << (core * w.m.threadsPerCore);
  }
  return pfn;
}
