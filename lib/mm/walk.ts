// A lockless page-table walker's read of one entry (the `pmd_t pmd = *pmdp` / READ_ONCE of gup_fast, hash_page's
// find_linux_pte and friends, any era): one step that reads the entry and needs the table page it lies in to
// still be that table. A walker holds no lock, so the table may have been unlinked and freed (or freed and
// reused) since the walker read the pointer to it: that read is the use-after-free this file reports.
// The runtime will offer this as a primitive (ptep_get_lockless-style); until then every walker goes through
// this one helper, so swapping it is one edit.

import { Gen, READ } from "../sim/machine";
import type { SimEvent } from "../sim/event";
import type { KernelBase } from "../sim/kernel";
import { checkFrameAccess } from "../sim/page_alloc";
import type { PtPage } from "./mm_types";

/** Read entry `i` of table `t` without locks (a step); undefined when the table is no longer live (reported). */
export function* lockless_read_entry(
  k: KernelBase,
  t: PtPage,
  i: number,
  ev: SimEvent,
  who: string,
): Gen<number | undefined> {
  k.RW2(t.base + i, READ, t.frame.id, READ, ev);
  yield;
  if (!checkFrameAccess(k, t.frame, t.gen, `${who} (lockless page-table walk)`)) return undefined;
  return t.ent[i];
}
