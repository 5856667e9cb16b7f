// 13bd817bb884 "powerpc/thp: Serialize pmd clear against a linux page table walk." (May 2015, v4.1 to v5.7):
// pmdp_get_and_clear of arch/powerpc/mm/pgtable_64.c, which ends with kick_all_cpus_sync. The version before it
// is later.ts's (v4.1); the scenarios' variants install this one under the kernel's name.

import type { Gen } from "../../sim/machine";
import { WRITE } from "../../sim/machine";
import type { MmStruct, PtPage } from "../../mm/mm_types";
import { _PAGE_BUSY } from "../../powerpc/pgtable_ppc64";
import { thp } from "./era";
import { E_PMD_UPDATE, E_SLOT_ZERO } from "./later";
import type { LK } from "./later";

/** pmdp_get_and_clear (13bd817bb884): v4.1's clear, then kick_all_cpus_sync, waiting for every IRQ-off walker. */
export function* pmdp_get_and_clear(k: LK, _mm: MmStruct, _addr: number, pmdt: PtPage, i: number): Gen<number> {
  k.wait(pmdt.base + i, WRITE, E_PMD_UPDATE, () => (pmdt.ent[i] & _PAGE_BUSY) === 0); // ldarx loop: not while busy
  yield;
  const old = pmdt.ent[i];
  pmdt.ent[i] = 0;
  const pgtable = thp(k.m).deposited.get(pmdt.base + i)!;
  k.multi([pgtable.frame.id, WRITE], E_SLOT_ZERO);
  yield;
  // Serialize against find_linux_pte_or_hugepte, which casts pmd_t to pte_t with IRQs off
  yield* k.kick_all_cpus_sync();
  return old;
}
