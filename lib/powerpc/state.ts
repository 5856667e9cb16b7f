// What a student inspects beside a timeline: for one address of one mm, the Linux PTE, every valid HPTE
// that matches its VA (two is a multi-hit), and each core's TLB entry — read without steps (ghost reads).

import type { Machine } from "../sim/machine";
import { mmWorld } from "../mm/mm_types";
import { pte_str, pte_pfn } from "../mm/pgtable";
import { get_vsid, va_to_vpn, HPTE_V_SECONDARY } from "./mmu_hash64";
import { ppcHw } from "./fault";

export type HashMmuRow = {
  /** "Linux PTE", "HPTE slot n", "TLB core c". */
  where: string;
  /** Frame it maps (pfn), or null. */
  pfn: number | null;
  detail: string;
};

/** Translation state of `ea` in the first (or named) mm on machine `m`. */
export function hashMmuState(m: Machine, ea: number, mmName?: string): HashMmuRow[] {
  const w = mmWorld(m);
  const mm = mmName ? w.mms.find((x) => x.name === mmName) : w.mms[0];
  if (!mm) throw new Error(`no mm ${mmName ?? ""} on this machine`);
  const hw = ppcHw(w);
  const rows: HashMmuRow[] = [];
  const pte = w.pteValue(mm, ea);
  rows.push({ where: "Linux PTE", pfn: pte & 1 ? pte_pfn(pte, w.L) : null, detail: pte_str(pte, w.L) });
  const vpn = va_to_vpn(get_vsid(mm.contextId, ea), ea);
  for (const slot of hw.hpt.findAll(vpn)) {
    const sec = (hw.hpt.v[slot] & HPTE_V_SECONDARY) !== 0;
    rows.push({
      where: `HPTE slot ${slot}`,
      pfn: hw.hpt.rpn[slot],
      detail: `valid, ${sec ? "secondary" : "primary"} group, PP=${hw.hpt.r[slot] & 3}`,
    });
  }
  for (let core = 0; core < hw.tlb.cores; core++) {
    const i = hw.tlb.lookup(core, vpn);
    if (i >= 0) rows.push({ where: `TLB core ${core}`, pfn: hw.tlb.pfn[i], detail: `flags ${hw.tlb.flags[i]}` });
  }
  return rows;
}
