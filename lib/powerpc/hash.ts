// Models arch/powerpc/mm/hash_utils_64.c, hash_low_64.S (__hash_page_4K) and hash_native_64.c (v2.6.22):
// the hash fault handler that turns a Linux PTE into an HPTE, and the HPTE insert / remove / update /
// invalidate primitives with tlbie (all cores) and tlbiel (this core).

import { Gen, READ, WRITE } from "../sim/machine";
import { event } from "../sim/event";
import "./costs";
import { checkTable, pt_entry_announce } from "../mm/pt_entry";
import { mmWorld, PTE_LEVEL, Ptep } from "../mm/mm_types";
import type { MmStruct, PtPage } from "../mm/mm_types";
import { pte_bits, pte_pfn } from "../mm/pgtable";
import {
  PPC64,
  _PAGE_BUSY,
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_HASHPTE,
  _PAGE_HPTEFLAGS,
  _PAGE_PRESENT,
  _PAGE_RW,
  _PAGE_USER,
  pte_hidx,
  pte_set_hidx,
} from "./pgtable_ppc64";
import type { PK } from "./kernel";
import {
  HPTES_PER_GROUP,
  HPTE_R_C,
  HPTE_R_PP,
  HPTE_V_SECONDARY,
  HPTE_V_VALID,
  HPTE_V_BOLTED,
  PP_RO,
  PP_RW,
  get_vsid,
  va_to_vpn,
} from "./mmu_hash64";
import { ppcHw } from "./fault";

const E_WALK = event("find_linux_pte", "read table entry (lockless, IRQs off)", { cost: "mem" });
const E_BUSY = event("__hash_page_4K", "set _PAGE_BUSY|ACCESSED(|DIRTY)", {
  cost: "hash_fault",
  counter: "hash faults",
});
const E_STORE = event("__hash_page_4K", "store hidx|HASHPTE, clear BUSY", { cost: "pte_update" });
const E_INSERT = event("native_hpte_insert", "insert HPTE in group", { cost: "hpte_insert" });
const E_REMOVE = event("native_hpte_remove", "evict a slot (no tlbie)", {
  cost: "hpte_invalidate",
  counter: "hpte evictions",
});
const E_UPDATEPP = event("native_hpte_updatepp", "update PP if AVPN matches", { cost: "hpte_insert" });
const E_INVAL = event("native_hpte_invalidate", "clear V if AVPN matches", {
  cost: "hpte_invalidate",
  counter: "hash flushes",
});
const E_TLBIE = event("tlbie", "invalidate VA in every core's TLB", { cost: "tlbie", counter: "tlbie" });
const E_TLBIEL = event("tlbiel", "invalidate VA in this core's TLB", { cost: "tlbiel", counter: "tlbiel" });

/** find_linux_pte: lockless walk of mm's tables (caller has IRQs off); the PTE pointer or null. */
export function* find_linux_pte(k: PK, mm: MmStruct, ea: number): Gen<Ptep | null> {
  let t: PtPage = mm.pgd;
  while (t.level < PTE_LEVEL) {
    const i = t.w.index(t.level, ea);
    pt_entry_announce(k, t, t.base + i, READ, E_WALK);
    yield;
    if (!checkTable(k, t, "find_linux_pte")) return null;
    const c = t.w.child(t.ent[i]);
    if (c === null) return null;
    t = c;
  }
  return t.pteps[t.w.index(PTE_LEVEL, ea)];
}

/** hash_page: the hash-miss / protection handler. 0: HPTE in place, retry; 1: go to do_page_fault. */
export function* hash_page(k: PK, ea: number, write: boolean): Gen<number> {
  const w = mmWorld(k.m);
  const mm = w.current[k.cpu()];
  if (mm === null) return 1;
  const flags = yield* k.local_irq_save(); // the exception entry runs with IRQs off
  let rc = 1;
  const ptep = yield* k.find_linux_pte(mm, ea);
  if (ptep !== null) {
    const vsid = get_vsid(mm.contextId, ea);
    rc = yield* k.__hash_page_4K(mm, ea, write, vsid, ptep);
  }
  yield* k.local_irq_restore(flags);
  return rc;
}

/**
 * __hash_page_4K: take _PAGE_BUSY (waiting while another CPU holds it), check access, set ACCESSED/DIRTY;
 * update the existing HPTE if HASHPTE, else insert primary → secondary → evict and retry; store hidx|HASHPTE.
 * The HPTE is writable only if the PTE is RW and DIRTY, so a first store to a clean page faults here again.
 */
export function* __hash_page_4K(
  k: PK,
  mm: MmStruct,
  ea: number,
  write: boolean,
  vsid: number,
  ptep: Ptep,
): Gen<number> {
  const w = mm.w;
  const hw = ppcHw(w);
  const pt = ptep.pt;
  pt_entry_announce(k, pt, ptep.id, WRITE, E_BUSY, () => (ptep.v & _PAGE_BUSY) === 0);
  yield;
  if (!checkTable(k, pt, "__hash_page_4K")) return 1;
  const old = ptep.v;
  const access = _PAGE_PRESENT | _PAGE_USER | (write ? _PAGE_RW : 0);
  if ((access & ~old) !== 0) return 1; // not present, or a store to a read-only PTE: a real fault
  const cpu = k.cpu();
  const local = mm.cpu_vm_mask === 1 << cpu; // ghost read of cpu_vm_mask (written only by switch_mm)
  let newp = pte_bits(old, 0, _PAGE_BUSY | _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0));
  ptep.v = newp;
  const pp = (newp & _PAGE_RW) !== 0 && (newp & _PAGE_DIRTY) !== 0 ? PP_RW : PP_RO;
  const rflags = pp | HPTE_R_C; // C always set, as the kernel does for performance
  const vpn = va_to_vpn(vsid, ea);
  const pfn = pte_pfn(newp, PPC64);
  const gen = w.pa.frames[pfn].gen;
  let hashed = (old & _PAGE_HASHPTE) !== 0;
  if (hashed) {
    const slot = hw.hpt.slotOf(vpn, pte_hidx(old));
    if ((yield* k.hpte_updatepp(slot, vpn, pp, local)) < 0) hashed = false; // evicted or reused: insert anew
  }
  if (!hashed) {
    newp = pte_bits(newp, _PAGE_HPTEFLAGS, _PAGE_BUSY);
    for (;;) {
      let hidx = yield* k.hpte_insert(hw.hpt.group(vpn, false), vpn, pfn, gen, rflags, 0);
      if (hidx < 0) hidx = yield* k.hpte_insert(hw.hpt.group(vpn, true), vpn, pfn, gen, rflags, HPTE_V_SECONDARY);
      if (hidx >= 0) {
        newp = pte_bits(pte_set_hidx(newp, hidx), 0, _PAGE_HASHPTE);
        break;
      }
      const secondary = k.choose(2, "hpte_remove group") === 1;
      yield* k.hpte_remove(hw.hpt.group(vpn, secondary));
    }
  }
  k.W(ptep.id, E_STORE);
  yield;
  ptep.v = pte_bits(newp, _PAGE_BUSY, 0);
  return 0;
}

/** native_hpte_insert: first free slot of the group; returns the hidx (slot | secondary << 3) or -1 if full. */
export function* hpte_insert(
  k: PK,
  group: number,
  vpn: number,
  pfn: number,
  gen: number,
  rflags: number,
  vflags: number,
): Gen<number> {
  const w = mmWorld(k.m);
  const hpt = ppcHw(w).hpt;
  k.W(hpt.obj(group), E_INSERT);
  yield;
  for (let i = 0; i < HPTES_PER_GROUP; i++) {
    const s = group + i;
    if ((hpt.v[s] & HPTE_V_VALID) !== 0) continue;
    hpt.vpn[s] = vpn;
    hpt.rpn[s] = pfn;
    hpt.gen[s] = gen;
    hpt.r[s] = rflags;
    hpt.v[s] = HPTE_V_VALID | vflags;
    return i | ((vflags & HPTE_V_SECONDARY) !== 0 ? 8 : 0);
  }
  return -1;
}

/** native_hpte_remove: evict a non-bolted slot of the group, starting at a random offset. No tlbie, and the
 *  victim's Linux PTE keeps HASHPTE: its TLB entries may outlive the HPTE until that PTE is flushed. */
export function* hpte_remove(k: PK, group: number): Gen<number> {
  const w = mmWorld(k.m);
  const hpt = ppcHw(w).hpt;
  const start = k.choose(HPTES_PER_GROUP, "hpte_remove victim slot");
  k.W(hpt.obj(group), E_REMOVE);
  yield;
  for (let i = 0; i < HPTES_PER_GROUP; i++) {
    const s = group + ((start + i) % HPTES_PER_GROUP);
    if ((hpt.v[s] & HPTE_V_VALID) === 0 || (hpt.v[s] & HPTE_V_BOLTED) !== 0) continue;
    hpt.v[s] = 0;
    return s;
  }
  return -1;
}

/** native_hpte_updatepp: set new PP if the slot still holds vpn (then tlbie); -1 if it does not. */
export function* hpte_updatepp(k: PK, slot: number, vpn: number, pp: number, local: boolean): Gen<number> {
  const w = mmWorld(k.m);
  const hpt = ppcHw(w).hpt;
  k.W(hpt.obj(slot), E_UPDATEPP);
  yield;
  let ret = -1;
  if (hpt.matches(slot, vpn)) {
    hpt.r[slot] = (hpt.r[slot] & ~HPTE_R_PP) | pp;
    ret = 0;
  }
  yield* k.tlbie(vpn, local); // the old permission may be cached
  return ret;
}

/** native_hpte_invalidate: clear the slot if it still holds vpn, then tlbie/tlbiel regardless (a TLB entry can
 *  outlive its HPTE after hpte_remove). */
export function* hpte_invalidate(k: PK, slot: number, vpn: number, local: boolean): Gen {
  const w = mmWorld(k.m);
  const hpt = ppcHw(w).hpt;
  k.W(hpt.obj(slot), E_INVAL);
  yield;
  if (hpt.matches(slot, vpn)) {
    hpt.v[slot] = 0;
  }
  yield* k.tlbie(vpn, local);
}

/** tlbie (local=false: every core's TLB) or tlbiel (local=true: this core's); includes the ptesync/tlbsync. */
export function* tlbie(k: PK, vpn: number, local: boolean): Gen {
  const w = mmWorld(k.m);
  const hw = ppcHw(w);
  const tlb = hw.tlb;
  const core = k.m.coreOf(k.cpu());
  if (local) k.W(tlb.obj(core), E_TLBIEL);
  else k.multi(hw.allObjs, E_TLBIE);
  yield;
  if (local) tlb.invalidate(core, vpn);
  else tlb.invalidateAll(vpn);
}

/** flush_hash_page: rebuild the slot from the PTE's saved hidx; invalidate if it still matches; tlbie(l). */
export function* flush_hash_page(k: PK, vpn: number, pte: number, local: boolean): Gen {
  const hpt = ppcHw(mmWorld(k.m)).hpt;
  yield* k.hpte_invalidate(hpt.slotOf(vpn, pte_hidx(pte)), vpn, local);
}

/** flush_hash_range: flush_hash_page for each entry of a batch (vpns[i], ptes[i]). */
export function* flush_hash_range(k: PK, vpns: readonly number[], ptes: readonly number[], local: boolean): Gen {
  for (let i = 0; i < vpns.length; i++) yield* k.flush_hash_page(vpns[i], ptes[i], local);
}

export { _PAGE_HASHPTE };
