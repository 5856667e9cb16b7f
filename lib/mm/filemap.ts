// Models mm/filemap.c (v3.14): find_get_page / page_cache_read: the page of a file at an index, read from
// disk into a new frame on a miss. The page cache holds one reference of its own. And the page lock
// (PG_locked in page->flags): lock_page sleeps while another task holds it; wait_on_page_locked sleeps until it
// is free without taking it.

import { Gen, READ, WRITE } from "../sim/machine";
import { event } from "../sim/event";
import "./costs";
import { GFP_KERNEL, PageFrame } from "../sim/page_alloc";
import type { K } from "./kernel";
import { AddressSpace, mmWorld } from "./mm_types";

const E_LOOKUP = event("find_get_page", "radix tree lookup", { cost: "mem" });
const E_GET = event("find_get_page", "get_page (recheck)", { cost: "atomic" });
const E_ADD = event("add_to_page_cache", "insert page read from disk", { cost: "page_fault" });

/** find_get_page (+ page_cache_read on a miss): the cached page with a reference taken, or null (no memory). */
export function* find_get_page(k: K, mapping: AddressSpace, index: number): Gen<PageFrame | null> {
  const w = mmWorld(k.m);
  for (;;) {
    k.R(mapping.id, E_LOOKUP);
    yield;
    const pfn = mapping.pages[index];
    if (pfn >= 0) {
      const page = w.pages[pfn];
      k.RW2(mapping.id, READ, page.id, WRITE, E_GET);
      yield;
      if (mapping.pages[index] !== pfn) continue; // removed meanwhile: look again
      page.count++;
      return w.pa.frames[pfn];
    }
    const f = yield* k.alloc_page(w.pa, GFP_KERNEL, "page cache");
    if (f === null) return null;
    const page = w.pages[f.pfn];
    k.multi([mapping.id, WRITE, page.id, WRITE, f.id, WRITE], E_ADD);
    yield;
    if (mapping.pages[index] >= 0) {
      yield* k.free_page(w.pa, f); // lost the race to another reader
      continue;
    }
    mapping.pages[index] = f.pfn;
    page.anon = false;
    page.mapping = mapping;
    page.index = index;
    page.dirty = false;
    page.locked = false; // added locked, unlocked when the read I/O completes (here: at once)
    page.mapcount = 0;
    page.rmap.length = 0;
    page.count = 2; // the page cache's and ours
    f.data = mapping.disk[index]; // the read I/O
    return f;
  }
}

const E_LOCK_PAGE = event("lock_page", "set PG_locked (sleeps while another task holds it)", { cost: "atomic" });
const E_UNLOCK_PAGE = event("unlock_page", "clear PG_locked, wake waiters", { cost: "atomic" });
const E_WAIT_LOCKED = event("wait_on_page_locked", "sleep until PG_locked is clear", { cost: "mem" });

/** lock_page: take the page lock, sleeping while it is held. */
export function* lock_page(k: K, f: PageFrame): Gen {
  const page = mmWorld(k.m).pages[f.pfn];
  k.wait(page.id, WRITE, E_LOCK_PAGE, () => !page.locked);
  yield;
  page.locked = true;
}

/** unlock_page: release the page lock (the caller holds it). */
export function* unlock_page(k: K, f: PageFrame): Gen {
  const page = mmWorld(k.m).pages[f.pfn];
  k.W(page.id, E_UNLOCK_PAGE);
  yield;
  if (!page.locked) k.violation("unlock-not-held", `unlock_page(pfn ${f.pfn}): the page is not locked`);
  page.locked = false;
}

/** wait_on_page_locked: sleep until nobody holds the page lock; does not take it. */
export function* wait_on_page_locked(k: K, f: PageFrame): Gen {
  const page = mmWorld(k.m).pages[f.pfn];
  k.wait(page.id, READ, E_WAIT_LOCKED, () => !page.locked);
  yield;
}
