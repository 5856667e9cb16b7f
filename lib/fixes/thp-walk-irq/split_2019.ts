// Fix 004's later history, 2019: a00196a27216 "powerpc/64s: __find_linux_pte() synchronization vs
// pmdp_invalidate()" (Nicholas Piggin, v5.2, Cc: stable v4.20+). Since the 2016 THP refcount rework a split is
// pmdp_invalidate (mark the pmd _PAGE_INVALID, clear _PAGE_PRESENT, flush, serialize_against_pte_lookup: an IPI
// that waits for IRQ-off walkers), then the deposited PTE page is withdrawn, filled and pmd_populate'd. Since
// da7ad366b497 (v4.20) the invalidated pmd is no longer pmd_none, so a walker starting after the IPI still takes
// it as a huge pmd and hands back (pte_t *)pmdp, which the populate then turns into a table pointer.
// a00196a27216 adds pmd_is_serializing to the walk (pgtable_2019.ts). Scenario thp-split-invalidate: CPU 0 is qemu's H_ENTER walk
// (local_irq_save, as from 691e95fd to 2020), CPU 1 splits the huge pmd. Threads only. Harm: pmd-as-pte.
// Modelled on this fix's v4.1 tables and bits: _PAGE_INVALID is the model's own bit; the split's small PTEs all
// map the huge page's one frame (the model has no subpages); serialize_against_pte_lookup kicks every CPU (its
// mm_cpumask here is every CPU).

import { defineScenario } from "../../explore/scenario";
import type { ScenarioInstance } from "../../explore/scenario";
import { WRITE } from "../../sim/machine";
import type { Gen, Machine } from "../../sim/machine";
import { defineSources } from "../../sim/sources";
import { event } from "../../sim/event";
import { PMD_LEVEL, PTE_LEVEL, mmWorld } from "../../mm/mm_types";
import type { MmStruct, PtPage, Ptep } from "../../mm/mm_types";
import { pte_pfn, pfn_pte, pte_bits } from "../../mm/pgtable";
import { pt_entry_get_lockless } from "../../mm/pt_entry";
import { _PAGE_PRESENT, _PAGE_USER, _PAGE_RW, _PAGE_ACCESSED, _PAGE_DIRTY } from "../../powerpc/pgtable_ppc64";
import { PPC64_64K, pmd_none, pmd_trans_huge, useLazyIrqs } from "./era";
import type { PmdPtep, TK } from "./era";
import type { LK } from "./later";
import { thpPmdClearOps, hugeBackedGuest, htab_write_thread } from "./pmd_clear";
import * as pgtable2019 from "./pgtable_2019";
import { check_no_stale_hpte, THP_BASE } from "./scenario";

/** _PAGE_INVALID (book3s/64/pgtable.h, v4.20+): a software bit; the value here is the model's own. */
export const _PAGE_INVALID = 0x20000;

/** pmd_is_serializing (a00196a27216): _PAGE_INVALID set and _PAGE_PRESENT clear — a split in progress. */
export const pmd_is_serializing = (v: number): boolean => (v & (_PAGE_PRESENT | _PAGE_INVALID)) === _PAGE_INVALID;

/** The kernel of this scenario: the later history's names plus the 2019 split (its pmdp_invalidate replaces v4.1's). */
export interface SK extends Omit<LK, "pmdp_invalidate"> {
  pmdp_invalidate(mm: MmStruct, addr: number, pmdt: PtPage, i: number): Gen<number>;
  serialize_against_pte_lookup(mm: MmStruct): Gen;
  split_huge_pmd(mm: MmStruct, addr: number): Gen;
}

/** __find_linux_pte's walk (arch/powerpc/mm/pgtable.c, v4.20–v5.1): pmd_none → NULL; a huge pmd → (pte_t *)pmdp. */
export function* __find_linux_pte(k: SK, pgdir: PtPage, ea: number, shift: { v: number }): Gen<Ptep | PmdPtep | null> {
  const w = pgdir.w;
  shift.v = 0;
  const pgd = yield* pt_entry_get_lockless(k, pgdir, w.index(pgdir.level, ea), "__find_linux_pte");
  if (pgd === undefined || pgd === 0) return null;
  const pmdt = w.child(pgd)!;
  const i = w.index(PMD_LEVEL, ea);
  const pmd = yield* pt_entry_get_lockless(k, pmdt, i, "__find_linux_pte");
  // A hugepage collapse is captured by pmd_none
  if (pmd === undefined || pmd_none(pmd)) return null;
  if (pmd_trans_huge(pmd)) {
    shift.v = Math.log2(w.span(PMD_LEVEL));
    return { pmd: true, pt: pmdt, i };
  }
  return w.child(pmd)!.pteps[w.index(PTE_LEVEL, ea)];
}

function* do_nothing(): Gen {}

/** serialize_against_pte_lookup (book3s64/pgtable.c): smp_call_function_many(mm_cpumask, do_nothing, wait=1). */
export function* serialize_against_pte_lookup(k: SK, _mm: MmStruct): Gen {
  yield* k.smp_call_function("serialize_against_pte_lookup", do_nothing, null, true);
}

const E_INVALIDATE = event("pmdp_invalidate", "pmd_hugepage_update(clr _PAGE_PRESENT, set _PAGE_INVALID)", {
  cost: "atomic",
});

/** pmdp_invalidate (book3s64/pgtable.c, v4.20–v5.7): mark invalid, (flush), wait for IRQ-off walkers. */
export function* pmdp_invalidate(k: SK, mm: MmStruct, _addr: number, pmdt: PtPage, i: number): Gen<number> {
  k.W(pmdt.base + i, E_INVALIDATE);
  yield;
  const old = pmdt.ent[i];
  pmdt.ent[i] = pte_bits(old, _PAGE_PRESENT, _PAGE_INVALID); // 64-bit safe: the pfn lies above bit 31
  yield* k.serialize_against_pte_lookup(mm);
  return old;
}

const E_FILL = event("__split_huge_pmd_locked", "set_pte_at for each small page (the withdrawn table)", {
  cost: "mem",
});
const E_POPULATE = event("__split_huge_pmd_locked", "smp_wmb(); pmd_populate(mm, pmd, pgtable)", { cost: "mem" });

/**
 * split_huge_pmd → __split_huge_pmd_locked (mm/huge_memory.c, v4.20) of an anonymous THP, under the pmd lock:
 * pmdp_invalidate, withdraw the deposit, fill it with the small pages' PTEs, then pmd_populate.
 */
export function* split_huge_pmd(k: SK, mm: MmStruct, addr: number): Gen {
  const w = mmWorld(k.m);
  const pmdt = w.child(mm.pgd.ent[w.index(0, addr)])!;
  const i = w.index(PMD_LEVEL, addr);
  yield* k.spin_lock(mm.page_table_lock);
  if (!pmd_trans_huge(pmdt.ent[i])) {
    yield* k.spin_unlock(mm.page_table_lock);
    return;
  }
  const old = yield* k.pmdp_invalidate(mm, addr, pmdt, i);
  const pgtable = yield* k.pgtable_trans_huge_withdraw(pmdt, i);
  const prot = _PAGE_PRESENT | _PAGE_USER | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
  k.multi(
    pgtable.pteps.flatMap((p) => [p.id, WRITE]),
    E_FILL,
  );
  yield;
  for (const p of pgtable.pteps) p.v = pfn_pte(pte_pfn(old, PPC64_64K), prot, PPC64_64K);
  pgtable.frame.use = "pte table";
  k.W(pmdt.base + i, E_POPULATE);
  yield;
  pmdt.ent[i] = pgtable.frame.pfn + 1;
  yield* k.spin_unlock(mm.page_table_lock);
}

defineSources(__dirname, {
  pgtable_2019: pgtable2019,
  split_2019: {
    __find_linux_pte,
    pmdp_invalidate,
    serialize_against_pte_lookup,
    split_huge_pmd,
  },
});

/** v4.20–v5.1: the split above, the walk without the serializing check (the callers as 691e95fd left them). */
export const thpSplitInvalidateOps = {
  ...thpPmdClearOps,
  __find_linux_pte_or_hugepte: __find_linux_pte, // 691e95fd's name, __find_linux_pte since the 2017 rename
  pmdp_invalidate,
  serialize_against_pte_lookup,
  split_huge_pmd,
};

function build(k: SK, m: Machine): ScenarioInstance {
  useLazyIrqs(m); // ppc64 of v4.x: lazy (soft) IRQ disabling
  const { w, g } = hugeBackedGuest(m);
  const tk = k as unknown as TK; // the walker's and the final check's view: the era's names
  m.spawn(0, "htab_write", htab_write_thread(tk, g));
  m.spawn(1, "split", split_thread(k, g.mm));
  return { final: () => check_no_stale_hpte(tk, w, g.kvm) };
}

/** CPU 1: a split of the huge pmd (e.g. mprotect of half of it, or the page's migration). */
export function* split_thread(k: SK, mm: MmStruct): Gen {
  yield* k.split_huge_pmd(mm, THP_BASE);
}

export const thpSplitInvalidate = defineScenario({
  id: "thp-split-invalidate",
  fix: "thp-walk-irq",
  title: "KVM's H_ENTER walk against a post-2016 THP split (pmdp_invalidate), before and after a00196a27216",
  description:
    "CPU 0 restores a guest HPTE (local_irq_save around the walk) and finds the backing huge pmd; CPU 1 splits it: " +
    "pmdp_invalidate marks it _PAGE_INVALID and waits for IRQ-off walkers, then the deposit becomes its PTE page. " +
    "Before a00196a27216 a walk that starts after the IPI takes the invalid pmd as huge and reads the table pointer " +
    "through (pte_t *)pmdp; pmd_is_serializing makes it return NULL.",
  ops: thpSplitInvalidateOps,
  variants: { before: {}, after: { __find_linux_pte_or_hugepte: pgtable2019.__find_linux_pte } },
  machine: { cpus: 2 },
  bounds: { preemptions: 2, depth: 3, maxSteps: 2000 },
  setup: (k, m) => build(k as unknown as SK, m),
});
