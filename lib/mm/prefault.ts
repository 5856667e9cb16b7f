// Initial-state builder (no kernel counterpart): what a scenario's "the page is already mapped" means, built
// without steps before any thread runs, so a search starts at the interesting part.

import type { MmStruct } from "./mm_types";
import { PAGE_SIZE, pfn_pte } from "./pgtable";

export interface PrefaultOptions {
  /** Map it dirty and writable, as after a store (default true for anon, false for file). */
  write?: boolean;
  /** Version the page holds (the last store); file pages default to the disk version. */
  data?: number;
}

/** Map `ea` of mm as its vma says (anon: a new page; shared file: the page-cache page); returns the pfn. */
export function populate(mm: MmStruct, ea: number, opts: PrefaultOptions = {}): number {
  const w = mm.w;
  const L = w.L;
  const vma = mm.find_vma(ea);
  if (vma === null) throw new Error(`populate: no vma at 0x${ea.toString(16)}`);
  const ptep = w.buildTables(mm, ea);
  if (ptep.v !== 0) throw new Error(`populate: 0x${ea.toString(16)} is already mapped`);
  let pfn: number;
  let write: boolean;
  if (vma.file === null) {
    const f = w.pa.take("anon");
    const page = w.pages[f.pfn];
    page.anon = true;
    page.count = 1;
    page.mapcount = 1;
    page.rmap.push({ mm, addr: ea });
    f.data = opts.data ?? 0;
    pfn = f.pfn;
    write = opts.write ?? true;
  } else {
    const mapping = vma.file;
    const index = vma.pgoff + Math.floor((ea - vma.start) / PAGE_SIZE);
    write = opts.write ?? false;
    if (mapping.pages[index] < 0) {
      const f = w.pa.take("page cache");
      const page = w.pages[f.pfn];
      page.mapping = mapping;
      page.index = index;
      page.count = 1;
      f.data = mapping.disk[index];
      mapping.pages[index] = f.pfn;
    }
    pfn = mapping.pages[index];
    const page = w.pages[pfn];
    page.count++;
    page.mapcount++;
    page.rmap.push({ mm, addr: ea });
    if (opts.data !== undefined) w.pa.frames[pfn].data = opts.data;
    if (write) page.dirty = false; // dirtiness lives in the PTE until zap/page_mkclean moves it
  }
  ptep.v = pfn_pte(pfn, L.ACCESSED | (write ? L.RW | L.DIRTY : vma.file === null ? L.RW : 0), L);
  return pfn;
}
