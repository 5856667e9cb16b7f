// Models mm/page-writeback.c (v3.14): set_page_dirty, clear_page_dirty_for_io (page_mkclean, then
// TestClearPageDirty) and the write of a page's contents to disk, under the page lock. The I/O snapshot is its own step: whatever
// version the frame holds then is what reaches the disk.

import { Gen, READ, WRITE } from "../sim/machine";
import { event } from "../sim/event";
import type { PageFrame } from "../sim/page_alloc";
import type { K } from "./kernel";
import { mmWorld } from "./mm_types";

const E_DIRTY = event("set_page_dirty", "SetPageDirty", { cost: "atomic" });
const E_CLEAR = event("clear_page_dirty_for_io", "TestClearPageDirty", { cost: "atomic" });
const E_IO = event("writepage", "I/O: frame contents to disk", { cost: "mem", counter: "pages written" });

/** set_page_dirty: the page's contents are newer than the disk. */
export function* set_page_dirty(k: K, f: PageFrame): Gen {
  const page = mmWorld(k.m).pages[f.pfn];
  k.W(page.id, E_DIRTY);
  yield;
  page.dirty = true;
}

/** clear_page_dirty_for_io: clean the PTEs (moving their dirtiness to the page), then test-and-clear PG_dirty. */
export function* clear_page_dirty_for_io(k: K, f: PageFrame): Gen<boolean> {
  const page = mmWorld(k.m).pages[f.pfn];
  if ((yield* k.page_mkclean(f)) > 0) yield* k.set_page_dirty(f);
  k.W(page.id, E_CLEAR);
  yield;
  const was = page.dirty;
  page.dirty = false;
  return was;
}

/**
 * writepage (a_ops->writepage): called with the page locked; copy the frame's current contents to the page's
 * disk block (the I/O snapshot), then unlock the page, as a filesystem does once the I/O is submitted.
 */
export function* writepage(k: K, f: PageFrame): Gen {
  const page = mmWorld(k.m).pages[f.pfn];
  const mapping = page.mapping;
  if (mapping !== null) {
    k.RW2(f.id, READ, mapping.id, WRITE, E_IO);
    yield;
    mapping.disk[page.index] = f.data;
  }
  yield* k.unlock_page(f);
}

/**
 * write_one_page: writeback of one page if it is dirty. The kernel's caller locks the page; here the lock is
 * taken first: lock_page, clear_page_dirty_for_io, then writepage (which unlocks) or unlock_page.
 */
export function* write_one_page(k: K, f: PageFrame): Gen<boolean> {
  yield* k.lock_page(f);
  if (!(yield* k.clear_page_dirty_for_io(f))) {
    yield* k.unlock_page(f);
    return false;
  }
  yield* k.writepage(f);
  return true;
}
