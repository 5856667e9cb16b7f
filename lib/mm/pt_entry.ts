// One page-table entry as a step (include/linux/pgtable.h's accessors, as a model): the step announces the
// entry and the table page it lives in, and when it runs checks the table is still that allocation. A walker
// that holds no lock keeping the table alive (a lockless walk, gup_fast, hash_page's find_linux_pte) learns here
// whether the table was freed under it; the harm is reported as a use-after-free of the table page.

import { READ } from "../sim/machine";
import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import type { SimEvent } from "../sim/event";
import type { KernelBase } from "../sim/kernel";
import { checkFrameAccess } from "../sim/page_alloc";
import type { PtPage, Ptep } from "./mm_types";

const WALK = " (page-table walk)";

/** A read of table t by a walker holding a pointer to t: the table must still be live (inside a step). */
export function checkTable(k: KernelBase, t: PtPage, who: string): boolean {
  return checkFrameAccess(k, t.frame, t.gen, who + WALK);
}

/**
 * One step accessing entry `id` of table `t` with `kind` (waiting for `cond` first, if given): announces the
 * entry and the table page; false if the table was freed or reused under the caller (reported).
 */
export function* pt_entry_access(k: KernelBase, t: PtPage, id: number, kind: number, ev: SimEvent, who: string, cond?: () => boolean): Gen<boolean> {
  return yield* k.inFrame(id, kind, t.frame, t.gen, ev, who + WALK, cond);
}

/** Trace site of a lockless read of an entry at each level, named for the accessor that yields the pointer. */
const E_OFFSET: readonly SimEvent[] = [
  event("pgd_offset", "read pgd entry (lockless walk)"),
  event("pmd_offset", "read pmd entry (lockless walk)"),
  event("pte_offset_map", "read PTE (lockless walk)"),
];

/**
 * READ_ONCE of entry i of table t by a walker that holds no lock keeping t alive: one step. The entry's value,
 * or undefined if t was freed under the walker (reported as use-after-free).
 */
export function* pt_entry_get_lockless(k: KernelBase, t: PtPage, i: number, who: string): Gen<number | undefined> {
  if (!(yield* k.inFrame(t.base + i, READ, t.frame, t.gen, E_OFFSET[t.level], who + WALK))) return undefined;
  return t.ent[i];
}

const E_PTEP_GET_LOCKLESS = event("ptep_get_lockless", "read PTE (lockless)");

/** ptep_get_lockless: the PTE's value in one step, or undefined if its table was freed under the caller. */
export function* ptep_get_lockless(k: KernelBase, ptep: Ptep, who: string): Gen<number | undefined> {
  const t = ptep.pt;
  if (!(yield* k.inFrame(ptep.id, READ, t.frame, t.gen, E_PTEP_GET_LOCKLESS, who + WALK))) return undefined;
  return ptep.v;
}
