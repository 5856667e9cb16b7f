// Fix 001, rcu-table-free: 267239116987 "mm, powerpc: move the RCU page-table freeing into generic code"
// (Peter Zijlstra, v3.0-rc1, May 2011). One CPU munmaps a range of an mm (unmap_region: zap the PTEs, then
// free_pgtables unlinks the PTE page and the pmd table above it and hands them to the gather), while another
// CPU walks the same range of the same mm without locks: hash_page's find_linux_pte_or_hugepte (IRQs off),
// get_user_pages_fast (IRQs off), or a walker that only holds rcu_read_lock_sched (preemption off, IRQs on).
// Harm is a walker reading an entry of a table page that has been freed (use-after-free). Nothing here says
// in which order the CPUs run: the explorer finds the orderings.
//
// The walker is either another thread of the mm (`user: "thread"`: mm_users is 2) or a kernel thread that
// borrowed the mm with use_mm while holding only mm_count, as aio's retry handler of the era did
// (`user: "kthread"`: mm_users is 1, so tlb_remove_table's "fewer than two users" shortcut frees at once).
//
// Variants (the base table is the after kernel, 267239116987):
//  - naive: powerpc's !CONFIG_SMP pgtable_free_tlb — the table freed at once;
//  - before: the parent of 267239116987 (powerpc's private pte_freelist_batch, GFP_ATOMIC, pgtable_free_now);
//  - after: 267239116987 (generic tlb_remove_table, GFP_NOWAIT, tlb_remove_table_one);
//  - 2018-users: after, with "mm/tlb: Remove tlb_remove_table() non-concurrent condition" (Aug 2018): the
//    mm_users < 2 shortcut is gone. (Not "2018": JS orders integer-like keys first, and the first is the default.)
// The batch page allocation may fail (`allocFail`, explored both ways); `batchMax` is the batch capacity.

import { PPC64 } from "../../powerpc/pgtable_ppc64";
import { int, bool, oneOf } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { defineScenario } from "../../explore/scenario";
import type { ScenarioInstance } from "../../explore/scenario";
import type { KernelBase } from "../../sim/kernel";
import { simOps } from "../../sim/index";
import type { Gen, Machine } from "../../sim/machine";
import { PAGE_ALLOCATED } from "../../sim/page_alloc";
import type { PageFrame } from "../../sim/page_alloc";
import { mmOps, MmWorld, PGD_LEVEL, PMD_LEVEL } from "../../mm/index";
import type { MmStruct, PtPage, Vma } from "../../mm/mm_types";
import { powerpcHashOps, powerpcLocklessOps, powerpcHash, prefault } from "../../powerpc/index";
import { defineSources } from "../../sim/sources";
import * as era from "./era";
import * as before from "./before";
import * as after from "./after";
import * as naive from "./naive";
import * as later from "./later";
import * as walker from "./walker";
import type { RK } from "./era";

defineSources(__dirname, { era, before, after, naive, later, walker });

/** The unmapped range starts here: pgd entry 1 of the small tables searches use. */
export const RCU_BASE = 0x4000;

/** The kernel of 267239116987 on ppc64 hash: base mm + powerpc, the v3.0 table-freeing path, the after side. */
export const rcuTableFreeOps = {
  ...simOps,
  ...mmOps,
  ...powerpcHashOps,
  ...powerpcLocklessOps,
  // v3.0, both sides (era.ts)
  free_pgtables: era.free_pgtables,
  free_pgd_range: era.free_pgd_range,
  free_pud_range: era.free_pud_range,
  free_pmd_range: era.free_pmd_range,
  free_pte_range: era.free_pte_range,
  pte_free_tlb: era.pte_free_tlb,
  pmd_free_tlb: era.pmd_free_tlb,
  __pte_free_tlb: era.__pte_free_tlb,
  __pmd_free_tlb: era.__pmd_free_tlb,
  pgtable_free: era.pgtable_free,
  hash_page: era.hash_page,
  // the scenario's RCU-sched-only walker (walker.ts; not a kernel function)
  rcu_sched_walk: walker.rcu_sched_walk,
  // 267239116987 (after.ts; tlb_flush is the base model's tlb_hash64.c one)
  tlb_gather_mmu: after.tlb_gather_mmu,
  tlb_flush_mmu: after.tlb_flush_mmu,
  pgtable_free_tlb: after.pgtable_free_tlb,
  __tlb_remove_table: after.__tlb_remove_table,
  tlb_remove_table: after.tlb_remove_table,
  tlb_table_flush: after.tlb_table_flush,
  tlb_remove_table_rcu: after.tlb_remove_table_rcu,
  tlb_remove_table_one: after.tlb_remove_table_one,
  tlb_remove_table_smp_sync: after.tlb_remove_table_smp_sync,
  // the powerpc-private names 267239116987 removed: only the before variant's code calls them
  pte_free_finish: before.pte_free_finish,
  pte_free_submit: before.pte_free_submit,
  pte_free_rcu_callback: before.pte_free_rcu_callback,
  pgtable_free_now: before.pgtable_free_now,
  pte_free_smp_sync: before.pte_free_smp_sync,
};

/** The functions 267239116987 changed, as its parent had them. */
export const rcuTableFreeBefore = {
  tlb_gather_mmu: before.tlb_gather_mmu,
  tlb_flush_mmu: before.tlb_flush_mmu,
  tlb_flush: before.tlb_flush,
  pgtable_free_tlb: before.pgtable_free_tlb,
};

export const rcuTableFreeVariants = {
  naive: { pgtable_free_tlb: naive.pgtable_free_tlb },
  before: rcuTableFreeBefore,
  after: {},
  "2018-users": { tlb_remove_table: later.tlb_remove_table },
};

export type Walker = "hash_page" | "gup_fast" | "rcu_sched";

export const rcuTableFreeParams = {
  walker: oneOf(["hash_page", "gup_fast", "rcu_sched"] as const, "hash_page", "the lockless walker on CPU 1"),
  user: oneOf(
    ["thread", "kthread"] as const,
    "thread",
    "whose walk: another thread of the mm, or an aio-style kernel thread that use_mm()s it",
  ),
  allocFail: bool(true, "whether the batch page allocation (GFP_ATOMIC / GFP_NOWAIT) may fail: explored both ways"),
  batchMax: int(1, 509, 509, "batch capacity (PTE_FREELIST_SIZE / MAX_TABLE_BATCH: 509 on 4K pages)"),
};

export type RcuTableFreeParams = ParamsOf<typeof rcuTableFreeParams>;

function build(k: RK, m: Machine, p: RcuTableFreeParams): ScenarioInstance {
  m.ext.rcuTableBatchMax = p.batchMax;
  const w = new MmWorld(m, {
    frames: 12,
    ptrsPerPte: 2,
    ptrsPerPmd: 2,
    ptrsPerPgd: 2,
    allocMayFail: p.allocFail,
    layout: PPC64,
  });
  powerpcHash(w, { ptegs: 2, tlbEntries: 2 });
  const mm = w.mm_alloc("mm");
  const vma = w.mmap_anon(mm, RCU_BASE, 1);
  prefault(mm, RCU_BASE, { write: true, hash: false }); // mapped, its HPTE evicted: the walker's access misses
  // CPU 0 runs a thread of the mm; CPU 1 runs another thread of it, or a kernel thread (current->mm NULL).
  w.current_mm[0] = mm;
  if (p.user === "thread") {
    mm.mm_users = 2;
    w.current_mm[1] = mm;
  } else mm.mm_count = 2; // the aio ioctx's reference: mm_count only (ioctx_alloc: atomic_inc(&mm->mm_count))
  m.spawn(0, "munmap", munmap_thread(k, mm, vma));
  m.spawn(1, p.user === "thread" ? p.walker : `kthread:${p.walker}`, walker_thread(k, mm, p));
  return { final: () => check_tables_freed(k, w) };
}

// Thread bodies are module-level generator functions (a per-execution `function*` closure costs V8 dearly).

/** CPU 0: munmap of the range: unmap_region (its only vma: floor 0, ceiling 0). */
export function* munmap_thread(k: RK, mm: MmStruct, vma: Vma): Gen {
  yield* k.switch_mm(mm);
  yield* k.unmap_region(vma, vma.start, vma.end, 0, 0);
}

/** CPU 1: one lockless walk of RCU_BASE, by a thread of the mm or by a kernel thread that use_mm()s it. */
export function* walker_thread(k: RK, mm: MmStruct, p: RcuTableFreeParams): Gen {
  if (p.user === "kthread") yield* k.use_mm(mm);
  else yield* k.switch_mm(mm);
  if (p.walker === "hash_page")
    yield* k.hash_page(RCU_BASE, false); // the hash miss of a load (copy_to_user)
  else if (p.walker === "gup_fast") {
    const pages: PageFrame[] = [];
    yield* k.get_user_pages_fast(RCU_BASE, 1, false, pages);
    for (const page of pages) yield* k.put_page(page); // the I/O is done
  } else yield* k.rcu_sched_walk(mm, RCU_BASE);
  if (p.user === "kthread") yield* k.unuse_mm(mm);
}

/**
 * At the end, after every grace period and callback: each table is still linked or has been freed, and each
 * batch page has been freed (an unlinked table or batch page still allocated is a leak).
 */
export function check_tables_freed(k: KernelBase, w: MmWorld): void {
  const linked = new Set<PtPage>();
  for (const mm of w.mms) {
    if (!mm.pgd.live) continue;
    linked.add(mm.pgd);
    for (const e of mm.pgd.ent) {
      const pmd = w.child(e);
      if (pmd === null) continue;
      linked.add(pmd);
      for (const e2 of pmd.ent) {
        const pt = w.child(e2);
        if (pt !== null) linked.add(pt);
      }
    }
  }
  for (const t of w.tables) {
    if (t !== null && t.live && !linked.has(t)) {
      k.violation(
        "table-leak",
        `a ${t.level === PGD_LEVEL ? "pgd" : t.level === PMD_LEVEL ? "pmd table" : "PTE page"} (pfn ${t.frame.pfn}) was unlinked but never freed`,
      );
      return;
    }
  }
  for (const f of w.pa.frames) {
    if (f.state === PAGE_ALLOCATED && (f.use === "pte_freelist_batch" || f.use === "mmu_table_batch")) {
      k.violation("batch-leak", `the ${f.use} page (pfn ${f.pfn}) was never freed`);
      return;
    }
  }
}

export const rcuTableFree = defineScenario({
  id: "rcu-table-free",
  fix: "rcu-table-free",
  title: "a PTE page and a pmd table freed under a lockless walker",
  description:
    "CPU 0 munmaps a range (zap, then free_pgtables frees its PTE page and pmd table) while CPU 1 walks it without " +
    "locks: hash_page / get_user_pages_fast with IRQs off, or an rcu_read_lock_sched walker. Freed at once (naive), " +
    "a walker reads a freed table; deferred by RCU-sched, or after an IPI when the batch page cannot be had, it does not.",
  ops: rcuTableFreeOps,
  variants: rcuTableFreeVariants,
  machine: { cpus: 2, rcu: true },
  params: rcuTableFreeParams,
  bounds: { preemptions: 2, depth: 3, maxSteps: 2000 },
  setup: (k, m, p) => build(k, m, p),
});
