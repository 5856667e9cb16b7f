// Models mm/vmscan.c (v3.14) reduced to what the lost-write invariant needs: reclaim of an unmapped, clean
// page-cache page (remove it from the cache, free it). A clean page whose contents differ from the disk is a
// store that was lost: it would be dropped here. Also the end-of-run form of the same check.

import { Gen, READ, WRITE } from "../sim/machine";
import { event } from "../sim/event";
import type { KernelBase } from "../sim/kernel";
import type { K } from "./kernel";
import { AddressSpace, MmWorld, mmWorld } from "./mm_types";
import { pte_dirty, pte_pfn, pte_present } from "./pgtable";

const E_LOOK = event("shrink_page_list", "find page", { cost: "mem" });
const E_RECLAIM = event("__remove_mapping", "remove clean page from page cache", {
  cost: "mem",
  counter: "pages reclaimed",
});

/** shrink_page: try to reclaim the page cached at mapping[index]; true if it was freed. */
export function* shrink_page(k: K, mapping: AddressSpace, index: number): Gen<boolean> {
  const w = mmWorld(k.m);
  k.R(mapping.id, E_LOOK);
  yield;
  const pfn = mapping.pages[index];
  if (pfn < 0) return false;
  const page = w.pages[pfn];
  const f = w.pa.frames[pfn];
  k.multi([mapping.id, WRITE, page.id, WRITE, f.id, READ], E_RECLAIM);
  yield;
  if (mapping.pages[index] !== pfn || page.mapcount > 0 || page.count > 1 || page.dirty) return false;
  if (f.data !== mapping.disk[index]) {
    k.violation(
      "lost-write",
      `${mapping.name} page ${index} (pfn ${pfn}) reclaimed clean holding store v${f.data}, but disk has v${mapping.disk[index]}: that store is lost`,
    );
    return false;
  }
  mapping.pages[index] = -1;
  page.count = 0;
  page.mapping = null;
  yield* k.free_page(w.pa, f);
  return true;
}

/**
 * The lost-write check at the end of a run (a ghost: no step): every cached page whose contents differ from
 * disk must be dirty, or mapped by a dirty PTE.
 */
export function check_lost_writes(k: KernelBase, w: MmWorld = mmWorld(k.m)): void {
  const L = w.L;
  for (const mapping of w.files) {
    for (let i = 0; i < mapping.npages; i++) {
      const pfn = mapping.pages[i];
      if (pfn < 0) continue;
      const page = w.pages[pfn];
      if (page.dirty || w.pa.frames[pfn].data === mapping.disk[i]) continue;
      let dirtyPte = false;
      for (const { mm, addr } of page.rmap) {
        const v = w.pteValue(mm, addr);
        if (pte_present(v, L) && pte_pfn(v, L) === pfn && pte_dirty(v, L)) dirtyPte = true;
      }
      if (!dirtyPte) {
        k.violation(
          "lost-write",
          `${mapping.name} page ${i} (pfn ${pfn}) holds store v${w.pa.frames[pfn].data} but is clean (disk v${mapping.disk[i]}): reclaim would lose it`,
        );
        return;
      }
    }
  }
}
