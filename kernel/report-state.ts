// The translation state of a machine, for a race report's step inspector: every PTE of every mm's VMAs, every
// valid HPTE, every core's TLB entries, and the frames they reach, read without steps (ghost reads). A cached
// translation is marked when it is harmful: its frame was freed or reused since it was filled, the PTE of its address
// no longer maps that frame, or another valid HPTE translates the same VPN (a multi-hit).

import type { Machine } from "../lib/sim/machine";
import { PAGE_FREE } from "../lib/sim/page_alloc";
import { PAGE_SIZE, mmWorld, pte_pfn, pte_present, pte_str } from "../lib/mm/index";
import type { MmStruct, MmWorld } from "../lib/mm/index";
import { PpcHw, X86Hw, TLB_C, TLB_W } from "../lib/hw/index";
import { get_vsid, va_to_vpn } from "../lib/powerpc/mmu_hash64";

export type TranslationRow = {
  /** `PTE mm a @0x10000`, `HPTE slot 12`, `TLB core 1`, `frame 3`. */
  where: string;
  /** What it translates: `mm a @0x10000`, or "" when that cannot be told. */
  va: string;
  /** The frame it reaches, or null. */
  pfn: number | null;
  detail: string;
  /** "" when harmless; else why it is marked: `freed frame`, `reused frame`, `no PTE maps it`, `duplicate`. */
  mark: string;
};

/** Pages of one VMA shown at most (the report scenarios map a handful). */
const MAX_PAGES_PER_VMA = 64;

interface Mapping {
  mm: MmStruct;
  ea: number;
}

function label(m: Mapping | undefined): string {
  return m ? `mm ${m.mm.name} @0x${m.ea.toString(16)}` : "";
}

/** The frame's lifetime check for a cached translation filled when the frame had generation `gen`. */
function frameMark(w: MmWorld, pfn: number, gen: number): string {
  const f = w.pa.frames[pfn];
  if (!f) return "";
  if (f.state === PAGE_FREE) return "freed frame";
  if (f.gen !== gen) return "reused frame";
  return "";
}

/** Every translation on machine `m` (empty when the scenario builds no MmWorld). */
export function translationState(m: Machine): TranslationRow[] {
  if (!m.ext.mmWorld) return [];
  const w = mmWorld(m);
  const L = w.L;
  const rows: TranslationRow[] = [];
  const mapped = new Set<number>(); // frames some present PTE maps
  const byVpn = new Map<number, Mapping>(); // hash VPN → its (mm, address), to name what an HPTE or TLB entry holds
  const byTag = new Map<number, Mapping>(); // x86 TLB tag → (mm, address)
  const reached = new Set<number>();
  for (const mm of w.mms) {
    for (const vma of mm.vmas) {
      const end = Math.min(vma.end, vma.start + MAX_PAGES_PER_VMA * PAGE_SIZE);
      for (let ea = vma.start; ea < end; ea += PAGE_SIZE) {
        const at = { mm, ea };
        if (w.hw instanceof PpcHw) byVpn.set(va_to_vpn(get_vsid(mm.contextId, ea), ea), at);
        if (w.hw instanceof X86Hw) byTag.set(mm.contextId * 2 ** 20 + Math.floor(ea / PAGE_SIZE), at);
        const v = w.pteValue(mm, ea);
        const present = pte_present(v, L);
        const pfn = present ? pte_pfn(v, L) : null;
        if (pfn !== null) {
          mapped.add(pfn);
          reached.add(pfn);
        }
        rows.push({ where: "PTE", va: label(at), pfn, detail: v === 0 ? "none" : pte_str(v, L), mark: "" });
      }
    }
  }
  // Stale: the PTE of the address it caches no longer maps its frame (or, address unknown, no PTE does).
  const cached = (pfn: number, gen: number, at: Mapping | undefined) => {
    const life = frameMark(w, pfn, gen);
    if (life) return life;
    if (!at) return mapped.has(pfn) ? "" : "stale: no PTE maps it";
    const v = w.pteValue(at.mm, at.ea);
    if (!pte_present(v, L)) return "stale: its PTE is cleared";
    return pte_pfn(v, L) === pfn ? "" : `stale: its PTE maps pfn ${pte_pfn(v, L)}`;
  };
  const tlbFlags = (f: number) =>
    [(f & TLB_W) !== 0 ? "W" : "RO", (f & TLB_C) !== 0 ? "C" : ""].filter(Boolean).join(",");
  const hw = w.hw;
  if (hw instanceof PpcHw) {
    const hptes = hw.hpt.dump();
    const count = new Map<number, number>();
    for (const h of hptes) count.set(h.vpn, (count.get(h.vpn) ?? 0) + 1);
    for (const h of hptes) {
      reached.add(h.pfn);
      const dup = (count.get(h.vpn) ?? 0) > 1 ? "duplicate" : "";
      rows.push({
        where: `HPTE slot ${h.slot}`,
        va: label(byVpn.get(h.vpn)),
        pfn: h.pfn,
        detail: `${h.secondary ? "secondary" : "primary"} group, PP=${h.pp}`,
        mark: [dup, cached(h.pfn, hw.hpt.gen[h.slot], byVpn.get(h.vpn))].filter(Boolean).join(", "),
      });
    }
  }
  if (hw instanceof PpcHw || hw instanceof X86Hw) {
    const tlb = hw.tlb;
    for (let i = 0; i < tlb.tag.length; i++) {
      if (tlb.tag[i] < 0) continue;
      const core = Math.floor(i / tlb.entries);
      const at = hw instanceof PpcHw ? byVpn.get(tlb.tag[i]) : byTag.get(tlb.tag[i]);
      reached.add(tlb.pfn[i]);
      rows.push({
        where: `TLB core ${core}`,
        va: label(at),
        pfn: tlb.pfn[i],
        detail: tlbFlags(tlb.flags[i]),
        mark: cached(tlb.pfn[i], tlb.gen[i], at),
      });
    }
  }
  for (const pfn of [...reached].sort((a, b) => a - b)) {
    const f = w.pa.frames[pfn];
    if (!f) continue;
    const page = w.pages[pfn];
    const state = f.state === PAGE_FREE ? "free" : `${f.use || "allocated"}`;
    rows.push({
      where: `frame ${pfn}`,
      va: "",
      pfn,
      detail: `${state}, gen ${f.gen}, holds v${f.data}${page && page.dirty ? ", PG_dirty" : ""}${page ? `, mapcount ${page.mapcount}` : ""}`,
      mark: f.state === PAGE_FREE ? "free" : "",
    });
  }
  return rows;
}
