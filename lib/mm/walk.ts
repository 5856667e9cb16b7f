// Kept for branches written against it: fix 001's walkers now read through pt_entry.ts's pt_entry_get_lockless /
// ptep_get_lockless (the same step, the same check). New code should call those directly.

import type { Gen } from "../sim/machine";
import type { SimEvent } from "../sim/event";
import type { KernelBase } from "../sim/kernel";
import { pt_entry_get_lockless } from "./pt_entry";
import type { PtPage } from "./mm_types";

/** @deprecated pt_entry_get_lockless(k, t, i, who, ev): entry `i` of `t` in one step, undefined if `t` was freed. */
export function* lockless_read_entry(
  k: KernelBase,
  t: PtPage,
  i: number,
  ev: SimEvent,
  who: string,
): Gen<number | undefined> {
  return yield* pt_entry_get_lockless(k, t, i, who, ev);
}
