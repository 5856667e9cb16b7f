// The mm's two reference counts, kernel/fork.c and include/linux/sched.h as of v3.0 (unchanged in v3.14):
//  - mm_users: users of the address space (each thread sharing it, each get_task_mm); the last mmput tears the
//    address space down (exit_mmap) and then drops the mm_users' collective mm_count reference.
//  - mm_count: references to the struct itself (mm_users counts as one; a lazy-TLB kernel thread's active_mm,
//    aio's ioctx); the last mmdrop frees the pgd and the struct (__mmdrop).
// A kernel thread that only holds mm_count must not touch the address space unless it use_mm()s it while
// mm_users > 0 (aio of the era did exactly that: see mmu_context.ts). Both counters share one object
// (MmStruct.usersId): they sit in the same cache line, and every step here writes one of them.

import type { Gen } from "../sim/machine";
import { event } from "../sim/event";
import type { K } from "./kernel";
import type { MmStruct } from "./mm_types";

const E_USERS_INC = event("get_task_mm", "atomic_inc(&mm->mm_users)", { cost: "atomic" });
const E_USERS_DEC = event("mmput", "atomic_dec_and_test(&mm->mm_users)", { cost: "atomic" });
const E_COUNT_INC = event("atomic_inc", "atomic_inc(&mm->mm_count)", { cost: "atomic" });
const E_COUNT_DEC = event("mmdrop", "atomic_dec_and_test(&mm->mm_count)", { cost: "atomic" });

/** get_task_mm: a reference to the address space (mm_users++); the caller must know it still has users. */
export function* get_task_mm(k: K, mm: MmStruct): Gen<MmStruct | null> {
  k.W(mm.usersId, E_USERS_INC);
  yield;
  if (mm.mm_users === 0) return null; // PF_KTHREAD / exiting task: no mm to hand out
  mm.mm_users++;
  return mm;
}

/** mmput: drop an address-space reference; the last one tears the address space down, then mmdrop. May sleep. */
export function* mmput(k: K, mm: MmStruct): Gen {
  k.W(mm.usersId, E_USERS_DEC);
  yield;
  k.BUG_ON(mm.mm_users <= 0, "mm-refcount", `${mm.name}: mmput with mm_users ${mm.mm_users}`);
  if (--mm.mm_users !== 0) return;
  yield* k.exit_mmap(mm);
  yield* k.mmdrop(mm);
}

/** atomic_inc(&mm->mm_count), named mmgrab from v4.11 (v3.0 open-codes it): pin the struct, never the address space. */
export function* mmgrab(k: K, mm: MmStruct): Gen {
  k.W(mm.usersId, E_COUNT_INC);
  yield;
  mm.mm_count++;
}

/** mmdrop: drop a struct reference; the last one frees the pgd and the mm (__mmdrop). */
export function* mmdrop(k: K, mm: MmStruct): Gen {
  k.W(mm.usersId, E_COUNT_DEC);
  yield;
  k.BUG_ON(mm.mm_count <= 0, "mm-refcount", `${mm.name}: mmdrop with mm_count ${mm.mm_count}`);
  if (--mm.mm_count === 0) yield* k.__mmdrop(mm);
}

/** __mmdrop: mm_free_pgd (the pgd page goes back to the allocator), destroy_context, free_mm. */
export function* __mmdrop(k: K, mm: MmStruct): Gen {
  const w = mm.w;
  k.BUG_ON(w.current.includes(mm), "mm-refcount", `${mm.name}: freed while a CPU still has it as active_mm`);
  yield* k.free_page(w.pa, mm.pgd.frame);
  if (w.tables[mm.pgd.frame.pfn] === mm.pgd) w.tables[mm.pgd.frame.pfn] = null;
}
