// Models mm/rmap.c (v3.14): the reverse map from a page to the PTEs mapping it, page_remove_rmap, and
// page_mkclean, which write-protects and cleans every PTE of a file page before writeback. page_mkclean does
// nothing for a page with no mappings left: the gap the 2022 follow-up to fix 002 closed.

import { Gen, READ } from "../sim/machine";
import { event } from "../sim/event";
import type { PageFrame } from "../sim/page_alloc";
import type { K } from "./kernel";
import { MmStruct, Vma, mmWorld } from "./mm_types";
import { PAGE_SIZE, pte_bits, pte_dirty, pte_mkclean, pte_present, pte_pfn, pte_write, pte_wrprotect } from "./pgtable";

const E_REMOVE = event("page_remove_rmap", "mapcount--", { cost: "atomic" });
const E_MAPPED = event("page_mkclean", "page_mapped?", { cost: "mem" });
const E_CHECK = event("page_check_address", "read PTE under PTL", { cost: "mem" });

/** page_remove_rmap: one PTE no longer maps the page. */
export function* page_remove_rmap(k: K, f: PageFrame, mm: MmStruct, addr: number): Gen {
  const page = mmWorld(k.m).pages[f.pfn];
  k.W(page.id, E_REMOVE);
  yield;
  page.mapcount--;
  const r = page.rmap;
  for (let i = 0; i < r.length; i++) {
    if (r[i].mm === mm && r[i].addr === addr) {
      r.splice(i, 1);
      break;
    }
  }
  if (page.mapcount < 0) k.violation("bad-mapcount", `pfn ${f.pfn}: mapcount went negative`);
}

/** page_mkclean: clean and write-protect every PTE mapping a file page; returns how many were dirty/writable. */
export function* page_mkclean(k: K, f: PageFrame): Gen<number> {
  const w = mmWorld(k.m);
  const page = w.pages[f.pfn];
  k.R(page.id, E_MAPPED);
  yield;
  if (page.mapcount === 0 || page.mapping === null) return 0; // not mapped: nothing to clean, nobody to wait for
  const mapping = page.mapping;
  const index = page.index;
  let ret = 0;
  for (const vma of mapping.i_mmap) {
    const addr = vma.start + (index - vma.pgoff) * PAGE_SIZE;
    if (addr < vma.start || addr >= vma.end) continue;
    ret += yield* k.page_mkclean_one(f, vma, addr);
  }
  return ret;
}

/** page_mkclean_one: under the PTL, if the PTE maps the page dirty or writable, clear+flush and rewrite it clean, RO. */
export function* page_mkclean_one(k: K, f: PageFrame, vma: Vma, addr: number): Gen<number> {
  const mm = vma.mm;
  const L = mm.w.L;
  const ptep = yield* k.follow_pte_table(mm, addr);
  if (ptep === null) return 0;
  const ptl = ptep.pt.ptl!;
  yield* k.spin_lock(ptl);
  k.RW2(ptep.id, READ, ptep.pt.frame.id, READ, E_CHECK);
  yield;
  const v = ptep.v;
  let ret = 0;
  if (pte_present(v, L) && pte_pfn(v, L) === f.pfn && (pte_dirty(v, L) || pte_write(v, L))) {
    let entry = yield* k.ptep_clear_flush(mm, addr, ptep);
    entry = pte_wrprotect(pte_mkclean(entry, L), L);
    yield* k.set_pte_at(mm, addr, ptep, pte_bits(entry, L.HPTEFLAGS, 0));
    ret = pte_dirty(v, L) ? 1 : 0;
  }
  yield* k.spin_unlock(ptl);
  return ret;
}

/**
 * page_referenced_one (v2.6.22): page aging. Under the PTL, ptep_clear_flush_young: clear the accessed bit
 * and, if it was set, flush_tlb_page — a PTE update outside any lazy-MMU section.
 */
export function* page_referenced_one(k: K, f: PageFrame, vma: Vma, addr: number): Gen<boolean> {
  const mm = vma.mm;
  const L = mm.w.L;
  const ptep = yield* k.follow_pte_table(mm, addr);
  if (ptep === null) return false;
  const ptl = ptep.pt.ptl!;
  yield* k.spin_lock(ptl);
  k.RW2(ptep.id, READ, ptep.pt.frame.id, READ, E_REF_CHECK);
  yield;
  let young = false;
  if (pte_present(ptep.v, L) && pte_pfn(ptep.v, L) === f.pfn) {
    young = yield* k.ptep_test_and_clear_young(mm, addr, ptep);
    if (young) yield* k.flush_tlb_page(mm, addr);
  }
  yield* k.spin_unlock(ptl);
  return young;
}
const E_REF_CHECK = event("page_referenced_one", "page_check_address: PTE maps the page?", { cost: "mem" });
