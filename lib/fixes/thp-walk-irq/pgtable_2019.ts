// a00196a27216 "powerpc/64s: __find_linux_pte() synchronization vs pmdp_invalidate()" (2019, v5.2): the walk
// of arch/powerpc/mm/pgtable.c with pmd_is_serializing. The version before it (v4.20–v5.1) is split_2019.ts's,
// as are the split and the scenario whose variant installs this one under the kernel's name.

import type { Gen } from "../../sim/machine";
import { PMD_LEVEL, PTE_LEVEL } from "../../mm/mm_types";
import type { PtPage, Ptep } from "../../mm/mm_types";
import { pt_entry_get_lockless } from "../../mm/pt_entry";
import { pmd_none, pmd_trans_huge } from "./era";
import type { PmdPtep } from "./era";
import { pmd_is_serializing } from "./split_2019";
import type { SK } from "./split_2019";

/** __find_linux_pte (a00196a27216): a pmd that is serializing (a split under way) → NULL, like pmd_none. */
export function* __find_linux_pte(k: SK, pgdir: PtPage, ea: number, shift: { v: number }): Gen<Ptep | PmdPtep | null> {
  const w = pgdir.w;
  shift.v = 0;
  const pgd = yield* pt_entry_get_lockless(k, pgdir, w.index(pgdir.level, ea), "__find_linux_pte");
  if (pgd === undefined || pgd === 0) return null;
  const pmdt = w.child(pgd)!;
  const i = w.index(PMD_LEVEL, ea);
  const pmd = yield* pt_entry_get_lockless(k, pmdt, i, "__find_linux_pte");
  // A hugepage collapse is captured by this condition, see pmdp_collapse_flush
  if (pmd === undefined || pmd_none(pmd)) return null;
  // A hugepage split is captured by this condition, see pmdp_invalidate
  if (pmd_is_serializing(pmd)) return null;
  if (pmd_trans_huge(pmd)) {
    shift.v = Math.log2(w.span(PMD_LEVEL));
    return { pmd: true, pt: pmdt, i };
  }
  return w.child(pmd)!.pteps[w.index(PTE_LEVEL, ea)];
}
