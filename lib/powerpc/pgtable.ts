// Models include/asm-powerpc/pgtable-ppc64.h and arch/powerpc/mm/tlb_64.c (v2.6.22): pte_update (an
// ldarx/stdcx. loop that spins while _PAGE_BUSY is held by hash_page) and the ptep_* helpers built on it.
// A cleared PTE that had HASHPTE calls hpte_need_flush through k, so fix 000's batch can replace it; the
// default here is the after-fix behaviour with no active batch: flush_hash_page at once, globally.

import { Gen, WRITE } from "../sim/machine";
import { event } from "../sim/event";
import "./costs";
import { checkTable, pt_entry_announce } from "../mm/pt_entry";
import type { MmStruct, Ptep } from "../mm/mm_types";
import { pte_bits } from "../mm/pgtable";
import {
  _PAGE_ACCESSED,
  _PAGE_BUSY,
  _PAGE_DIRTY,
  _PAGE_HASHPTE,
  _PAGE_HPTEFLAGS,
  _PAGE_PRESENT,
  _PAGE_RW,
} from "./pgtable_ppc64";
import type { PK } from "./kernel";

const E_UPDATE = event("pte_update", "ldarx/stdcx.: clear bits (waits on _PAGE_BUSY)", { cost: "pte_update" });
const E_SET = event("set_pte_at", "store PTE", { cost: "mem" });
const E_ACCESS_FLAGS = event("__ptep_set_access_flags", "OR in RW/DIRTY/ACCESSED", { cost: "pte_update" });

/** pte_update: atomically clear `clr` once _PAGE_BUSY is free; if the old PTE had an HPTE, hpte_need_flush. */
export function* pte_update(k: PK, mm: MmStruct, addr: number, ptep: Ptep, clr: number, huge: boolean): Gen<number> {
  pt_entry_announce(k, ptep.pt, ptep.id, WRITE, E_UPDATE, () => (ptep.v & _PAGE_BUSY) === 0);
  yield;
  if (!checkTable(k, ptep.pt, "pte_update")) return 0;
  const old = ptep.v;
  ptep.v = clr >= 0xffffffff ? 0 : pte_bits(old, clr, 0); // ~0UL clears the whole PTE, frame number included
  if ((old & _PAGE_HASHPTE) !== 0) yield* k.hpte_need_flush(mm, addr, ptep, old, huge);
  return old;
}

export function* ptep_get_and_clear(k: PK, mm: MmStruct, addr: number, ptep: Ptep): Gen<number> {
  return yield* k.pte_update(mm, addr, ptep, 0xffffffff, false);
}

/** ptep_test_and_clear_young: clear _PAGE_ACCESSED through pte_update (so an HPTE is flushed); was it set? */
export function* ptep_test_and_clear_young(k: PK, mm: MmStruct, addr: number, ptep: Ptep): Gen<boolean> {
  const old = yield* k.pte_update(mm, addr, ptep, _PAGE_ACCESSED, false);
  return (old & _PAGE_ACCESSED) !== 0;
}

export function* ptep_set_wrprotect(k: PK, mm: MmStruct, addr: number, ptep: Ptep): Gen {
  yield* k.pte_update(mm, addr, ptep, _PAGE_RW, false);
}

/** set_pte_at: a present old PTE is cleared (and flushed) first; the new one never carries HPTE flags. */
export function* set_pte_at(k: PK, mm: MmStruct, addr: number, ptep: Ptep, pte: number): Gen {
  for (;;) {
    k.wait(ptep.id, WRITE, E_SET, () => (ptep.v & _PAGE_BUSY) === 0);
    yield;
    if ((ptep.v & _PAGE_PRESENT) === 0) {
      ptep.v = pte_bits(pte, _PAGE_HPTEFLAGS, 0);
      return;
    }
    yield* k.pte_update(mm, addr, ptep, 0xffffffff, false);
  }
}

/** ptep_set_access_flags: OR in RW/DIRTY/ACCESSED; the HPTE keeps its old PP until the next hash fault. */
export function* ptep_set_access_flags(k: PK, _mm: MmStruct, _addr: number, ptep: Ptep, bits: number): Gen {
  k.wait(ptep.id, WRITE, E_ACCESS_FLAGS, () => (ptep.v & _PAGE_BUSY) === 0);
  yield;
  ptep.v = pte_bits(ptep.v, 0, bits & (_PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED));
}
