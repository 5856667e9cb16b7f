// Models arch/x86/mm/gup.c, v3.0 (Nick Piggin's lockless get_user_pages_fast, 2008): with IRQs disabled, walk
// pgd → pud → pmd → pte of current->mm reading each entry once, and take a reference on each page. Its comment
// says why that is safe on x86: the unmapper frees a page table (and the pages) only after its TLB-flush IPI,
// and a CPU with IRQs off cannot take that IPI — so unlike powerpc's version it takes a plain get_page, with no
// speculative reference and no recheck. No huge pages, no PAE (gup_get_pte is one read) in this model.

import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import type { PageFrame } from "../sim/page_alloc";
import { pt_entry_get_lockless, ptep_get_lockless } from "../mm/pt_entry";
import { mmWorld, PGD_LEVEL, PMD_LEVEL, PTE_LEVEL } from "../mm/mm_types";
import type { PtPage } from "../mm/mm_types";
import { PAGE_SIZE, pte_pfn } from "../mm/pgtable";
import type { K } from "../mm/kernel";
import { X86 } from "./pgtable_types";

const E_PGD = event("get_user_pages_fast", "pgd_t pgd = *pgdp", { cost: "mem" });
const E_PMD = event("gup_pmd_range", "pmd_t pmd = *pmdp", { cost: "mem" });
const E_PTE = event("gup_pte_range", "pte_t pte = gup_get_pte(ptep)", { cost: "mem" });
const E_GET = event("gup_pte_range", "get_page", { cost: "atomic" });

/** -EFAULT */
export const EFAULT = -14;

/** gup_pte_range (x86, v3.0): pages of [addr, end) under one PTE table; 0 sends the caller to the slow path. */
export function* gup_pte_range(
  k: K,
  pt: PtPage,
  addr: number,
  end: number,
  write: boolean,
  pages: PageFrame[],
): Gen<number> {
  const w = pt.w;
  const mask = X86.PRESENT | X86.USER | (write ? X86.RW : 0); // | _PAGE_SPECIAL: no special PTEs here
  do {
    const pte = yield* ptep_get_lockless(k, pt.pteps[w.index(PTE_LEVEL, addr)], "gup_pte_range", E_PTE);
    if (pte === undefined || (pte & mask) !== mask) return 0;
    const f = w.pa.frames[pte_pfn(pte, X86)];
    const page = w.pages[f.pfn];
    k.W(page.id, E_GET); // get_page: the IPI the unmapper waits for keeps the page from being freed meanwhile
    yield;
    page.count++;
    pages.push(f);
    addr += PAGE_SIZE;
  } while (addr !== end);
  return 1;
}

/** gup_pmd_range (x86, v3.0): each pmd entry of [addr, end), read once; pmd_none sends the caller to the slow path. */
export function* gup_pmd_range(
  k: K,
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
    if (!(yield* gup_pte_range(k, w.child(pmd)!, addr, next, write, pages))) return 0;
    addr = next;
  } while (addr !== end);
  return 1;
}

/**
 * get_user_pages_fast (x86, v3.0): pin `nr_pages` pages of current->mm from `start`; returns how many. The pud
 * level is folded into the pgd here. The slow path (get_user_pages under mmap_sem) is not modelled: it would
 * wait for munmap's mmap_sem and find no vma (-EFAULT, or the pages pinned so far).
 */
export function* get_user_pages_fast(
  k: K,
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
    if (pgd === undefined || pgd === 0 || !(yield* gup_pmd_range(k, w.child(pgd)!, addr, next, write, pages))) {
      ok = false; // goto slow
      break;
    }
    addr = next;
  } while (addr !== end);
  yield* k.local_irq_enable();
  if (ok) return pages.length;
  return pages.length > 0 ? pages.length : EFAULT;
}
