// Models arch/powerpc/mm/gup.c, v3.0 (Nick Piggin's lockless get_user_pages_fast, 2008): with IRQs disabled,
// walk pgd → pud → pmd → pte of current->mm reading each entry once into a local copy, take a speculative
// reference on each page, recheck the PTE, and fall back to the slow get_user_pages otherwise. Its comment says
// why IRQs off is enough on powerpc: it does not prevent page-table teardown, but it does prevent the tables
// from being freed (RCU-sched, or the IPI of the fallback, wait for this CPU). No hugepages in this model.

import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import type { PageFrame } from "../sim/page_alloc";
import { pt_entry_get_lockless, ptep_get_lockless } from "../mm/pt_entry";
import { mmWorld, PGD_LEVEL, PMD_LEVEL, PTE_LEVEL } from "../mm/mm_types";
import type { PtPage } from "../mm/mm_types";
import { PAGE_SIZE, pte_pfn } from "../mm/pgtable";
import { PPC64, _PAGE_PRESENT, _PAGE_RW, _PAGE_USER } from "./pgtable_ppc64";
import type { PKL } from "./kernel";

const E_PGD = event("get_user_pages_fast", "pgd_t pgd = *pgdp", { cost: "mem" });
const E_PMD = event("gup_pmd_range", "pmd_t pmd = *pmdp", { cost: "mem" });
const E_PTE = event("gup_pte_range", "pte_t pte = *ptep", { cost: "mem" });
const E_RECHECK = event("gup_pte_range", "recheck pte_val(*ptep)", { cost: "mem" });

/** -EFAULT */
export const EFAULT = -14;

/** gup_pte_range: pages of [addr, end) under one PTE table; 0 sends the caller to the slow path. */
export function* gup_pte_range(
  k: PKL,
  pt: PtPage,
  addr: number,
  end: number,
  write: boolean,
  pages: PageFrame[],
): Gen<number> {
  const w = pt.w;
  const result = _PAGE_PRESENT | _PAGE_USER | (write ? _PAGE_RW : 0);
  const mask = result; // | _PAGE_SPECIAL: no special PTEs in this model
  do {
    const ptep = pt.pteps[w.index(PTE_LEVEL, addr)];
    const pte = yield* ptep_get_lockless(k, ptep, "gup_pte_range", E_PTE);
    if (pte === undefined || (pte & mask) !== result) return 0;
    const page = w.pa.frames[pte_pfn(pte, PPC64)];
    if (!(yield* k.page_cache_get_speculative(page))) return 0;
    const again = yield* ptep_get_lockless(k, ptep, "gup_pte_range", E_RECHECK);
    if (again !== pte) {
      yield* k.put_page(page);
      return 0;
    }
    pages.push(page);
    addr += PAGE_SIZE;
  } while (addr !== end);
  return 1;
}

/** gup_pmd_range: each pmd entry of [addr, end), read once; pmd_none sends the caller to the slow path. */
export function* gup_pmd_range(
  k: PKL,
  pmdt: PtPage,
  addr: number,
  end: number,
  write: boolean,
  pages: PageFrame[],
): Gen<number> {
  const w = pmdt.w;
  do {
    const pmd = yield* pt_entry_get_lockless(k, pmdt, w.index(PMD_LEVEL, addr), "gup_pmd_range", E_PMD);
    const next = Math.min(end, addr - (addr % w.span(PMD_LEVEL)) + w.span(PMD_LEVEL));
    if (pmd === undefined || pmd === 0) return 0;
    if (!(yield* k.gup_pte_range(w.child(pmd)!, addr, next, write, pages))) return 0;
    addr = next;
  } while (addr !== end);
  return 1;
}

/** gup_pud_range: the pud level is folded into the pgd here, so the one "pud" is the pgd entry already read. */
export function* gup_pud_range(
  k: PKL,
  pgd: number,
  addr: number,
  end: number,
  write: boolean,
  pages: PageFrame[],
): Gen<number> {
  return yield* k.gup_pmd_range(mmWorld(k.m).child(pgd)!, addr, end, write, pages);
}

/**
 * get_user_pages_fast (v3.0): pin `nr_pages` pages of current->mm from `start` into `pages`; returns how many.
 * The slow path (get_user_pages under mmap_sem for read) is not modelled: the fast path fails only on a PTE
 * or table that is gone, which here means munmap holds mmap_sem for write, so the slow path would wait for it
 * and then find no vma (-EFAULT, or the pages pinned so far).
 */
export function* get_user_pages_fast(
  k: PKL,
  start: number,
  nr_pages: number,
  write: boolean,
  pages: PageFrame[],
): Gen<number> {
  const w = mmWorld(k.m);
  const mm = w.current_mm[k.cpu()];
  if (mm === null) return EFAULT;
  start -= start % PAGE_SIZE;
  let addr = start;
  const end = start + nr_pages * PAGE_SIZE;
  let ok = true;
  yield* k.local_irq_disable();
  do {
    const pgd = yield* pt_entry_get_lockless(k, mm.pgd, w.index(PGD_LEVEL, addr), "get_user_pages_fast", E_PGD);
    const next = Math.min(end, addr - (addr % w.span(PGD_LEVEL)) + w.span(PGD_LEVEL));
    if (pgd === undefined || pgd === 0 || !(yield* k.gup_pud_range(pgd, addr, next, write, pages))) {
      ok = false; // goto slow
      break;
    }
    addr = next;
  } while (addr !== end);
  yield* k.local_irq_enable();
  if (ok) return pages.length;
  return pages.length > 0 ? pages.length : EFAULT; // slow_irqon: see above
}
