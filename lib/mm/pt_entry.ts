// One page-table entry as a step (include/linux/pgtable.h's accessors, as a model): the step announces the
// entry and the table page it lives in, and when it runs checks the table is still that allocation. A walker
// that holds no lock keeping the table alive (a lockless walk, gup_fast, hash_page's find_linux_pte) learns here
// whether the table was freed under it; the harm is reported as a use-after-free of the table page.
// Announce with pt_entry_announce, `yield`, then checkTable: no generator of its own on the hot paths.

import { READ } from "../sim/machine";
import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import type { SimEvent } from "../sim/event";
import type { KernelBase } from "../sim/kernel";
import type { PtPage, Ptep } from "./mm_types";

/** Inside the step: table t, reached through a pointer, must still be live; else the use-after-free is reported. */
export function checkTable(k: KernelBase, t: PtPage, who: string): boolean {
  return t.live || k.frameLive(t.frame, t.gen, `${who} (page-table walk)`);
}

/** Next step accesses entry `id` of table `t` with `kind` (after waiting for `cond`, if given): entry + table page. */
export function pt_entry_announce(
  k: KernelBase,
  t: PtPage,
  id: number,
  kind: number,
  ev: SimEvent,
  cond?: () => boolean,
): void {
  k.inFrame(id, kind, t.frame, ev, cond);
}

/** Trace site of a lockless read of an entry at each level, named for the accessor that yields the pointer. */
export const E_OFFSET: readonly SimEvent[] = [
  event("pgd_offset", "read pgd entry (lockless walk)"),
  event("pmd_offset", "read pmd entry (lockless walk)"),
  event("pte_offset_map", "read PTE (lockless walk)"),
];

/**
 * READ_ONCE of entry i of table t by a walker that holds no lock keeping t alive: one step. The entry's value,
 * or undefined if t was freed under the walker (reported as use-after-free). `ev` names the call site's read.
 */
export function* pt_entry_get_lockless(
  k: KernelBase,
  t: PtPage,
  i: number,
  who: string,
  ev: SimEvent = E_OFFSET[t.level],
): Gen<number | undefined> {
  k.inFrame(t.base + i, READ, t.frame, ev);
  yield;
  return checkTable(k, t, who) ? t.ent[i] : undefined;
}

const E_PTEP_GET_LOCKLESS = event("ptep_get_lockless", "read PTE (lockless)");

/** ptep_get_lockless: the PTE's value in one step, or undefined if its table was freed under the caller. */
export function* ptep_get_lockless(
  k: KernelBase,
  ptep: Ptep,
  who: string,
  ev: SimEvent = E_PTEP_GET_LOCKLESS,
): Gen<number | undefined> {
  k.inFrame(ptep.id, READ, ptep.pt.frame, ev);
  yield;
  return checkTable(k, ptep.pt, who) ? ptep.v : undefined;
}
