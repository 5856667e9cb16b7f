// Models find_linux_pte_or_hugepte of arch/powerpc/mm/hugetlbpage.c, v3.0 (from David Gibson's 2.6.38 hugepd
// rework until v4.x): the lockless walk hash_page and KVM use to find the Linux PTE for an address. It walks
// pgd → pud → pmd without locks, so its caller must hold off the freeing of those tables: IRQs off, which
// holds off both the RCU-sched grace period and the IPI of the table-freeing fallback. This model has no
// hugepages: no entry is a hugepd, so *shift is always 0 and only the normal walk remains.

import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import { pt_entry_get_lockless } from "../mm/pt_entry";
import type { PtPage, Ptep } from "../mm/mm_types";
import { PMD_LEVEL, PTE_LEVEL } from "../mm/mm_types";
import type { PKL } from "./kernel";

const E_PGD = event("find_linux_pte_or_hugepte", "read pgd entry (pgdir + pgd_index)", { cost: "mem" });
const E_PMD = event("pmd_offset", "read pmd entry (find_linux_pte_or_hugepte)", { cost: "mem" });

/**
 * find_linux_pte_or_hugepte (v3.0): the PTE pointer for `ea` in `pgdir`, or null where an upper level is none.
 * The pud level is folded into the pgd in this model (pud_offset reads nothing); the returned pointer's table
 * is read by the caller (`*ptep`), one more lockless step.
 */
export function* find_linux_pte_or_hugepte(k: PKL, pgdir: PtPage, ea: number): Gen<Ptep | null> {
  const w = pgdir.w;
  const pg = yield* pt_entry_get_lockless(k, pgdir, w.index(pgdir.level, ea), "find_linux_pte_or_hugepte", E_PGD);
  if (pg === undefined || pg === 0) return null; // pgd_none
  const pm = w.child(pg)!; // pud_offset: folded
  const e = yield* pt_entry_get_lockless(k, pm, w.index(PMD_LEVEL, ea), "find_linux_pte_or_hugepte", E_PMD);
  if (e === undefined || e === 0) return null; // pmd_none
  const pt = w.child(e)!;
  return pt.pteps[w.index(PTE_LEVEL, ea)]; // pte_offset_kernel: no read yet
}
