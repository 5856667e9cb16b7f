// Borrowing an mm, v3.0 (mm/mmu_context.c; kernel/sched.c context_switch and finish_task_switch; unchanged in
// v3.14). A kernel thread has no mm of its own (current->mm == NULL):
//  - lazy TLB: switched to, it keeps the previous task's mm as active_mm (mm_count++), so the CPU still runs on
//    that mm's page tables (and on x86 keeps them in CR3, where the hardware may walk them);
//  - use_mm: a kernel thread takes on a user mm as current->mm (aio's retry handler, vhost) so that
//    copy_to_user and get_user_pages_fast act on it; the caller must hold a reference that keeps the mm
//    alive (aio held only mm_count, vhost held mm_users via get_task_mm). unuse_mm drops current->mm and
//    leaves the mm as the lazy active_mm.

import { Gen } from "../sim/machine";
import { event } from "../sim/event";
import type { K } from "./kernel";
import { mmWorld } from "./mm_types";
import type { MmStruct } from "./mm_types";

const E_LAZY = event("enter_lazy_tlb", "kernel thread keeps active_mm (no-op on ppc64 and x86)", { cost: "none" });
const E_TSK = event("use_mm", "task_lock: tsk->mm = mm", { cost: "mem" });
const E_UNUSE = event("unuse_mm", "task_lock: tsk->mm = NULL (active_mm stays)", { cost: "mem" });

/**
 * context_switch (the mm part, with finish_task_switch): switch this CPU to a task whose mm is `next` — a user
 * task (switch_mm to it) or, with null, a kernel thread borrowing the current active_mm lazily (mm_count++).
 * The previous task's lazy reference, if it was a kernel thread, is dropped after the switch.
 */
export function* context_switch(k: K, next: MmStruct | null): Gen {
  const w = mmWorld(k.m);
  const cpu = k.cpu();
  const oldmm = w.current[cpu];
  const prevWasKthread = w.current_mm[cpu] === null;
  if (next === null) {
    if (oldmm !== null) yield* k.mmgrab(oldmm);
    k.local(E_LAZY);
    yield;
  } else yield* k.switch_mm(next);
  w.current_mm[cpu] = next;
  if (next !== null) w.current[cpu] = next;
  if (prevWasKthread && oldmm !== null && next !== null && oldmm !== next) yield* k.mmdrop(oldmm);
}

/** use_mm (kernel threads only): take on `mm` as current->mm and active_mm; the caller holds a reference to it. */
export function* use_mm(k: K, mm: MmStruct): Gen {
  const w = mm.w;
  const cpu = k.cpu();
  const active = w.current[cpu];
  if (active !== mm) yield* k.mmgrab(mm);
  k.local(E_TSK);
  yield;
  w.current_mm[cpu] = mm;
  yield* k.switch_mm(mm);
  if (active !== null && active !== mm) yield* k.mmdrop(active);
}

/** unuse_mm: current->mm = NULL; `mm` stays the lazy active_mm (and keeps its mm_count reference). */
export function* unuse_mm(k: K, mm: MmStruct): Gen {
  k.local(E_UNUSE);
  yield;
  mm.w.current_mm[k.cpu()] = null;
}
