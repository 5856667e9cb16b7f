// include/linux/pagemap.h, v3.0 (SMP, !TINY_RCU): the speculative page reference a lockless walker takes on
// the page a PTE it read points to. It fails on a page whose count has already dropped to zero (being freed),
// which is why gup_fast rechecks the PTE afterwards and drops the reference if the PTE changed.

import { Gen } from "../sim/machine";
import { event } from "../sim/event";
import type { PageFrame } from "../sim/page_alloc";
import type { K } from "./kernel";
import { mmWorld } from "./mm_types";

const E_SPEC = event("page_cache_get_speculative", "get_page_unless_zero", { cost: "atomic" });

/** page_cache_get_speculative: take a reference unless the count is zero; false when the page is being freed. */
export function* page_cache_get_speculative(k: K, f: PageFrame): Gen<boolean> {
  const page = mmWorld(k.m).pages[f.pfn];
  k.W(page.id, E_SPEC);
  yield;
  if (page.count === 0) return false;
  page.count++;
  return true;
}
