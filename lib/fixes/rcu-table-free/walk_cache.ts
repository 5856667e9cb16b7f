// Fix 001's later history: the 2011 table freeing on an MMU whose hardware walks Linux's tables and caches their
// upper-level entries (book3s64 radix and its page-walk cache, lib/hw/pwc.ts), and the commits that made it safe.
// CPU 0 munmaps as in rcu-table-free; on CPU 1 the hardware walks the range speculatively, twice (the explorer
// places the walks), for a thread of the mm or on a lazy-TLB CPU whose kernel thread still has the mm loaded
// (mm_users 1: the mm's last thread there has exited). Harm: a hardware walk through a freed table. On hash, no
// hardware walks Linux's tables: CPU 1's thread runs hash_page (IRQs off), the software walk of the base scenario.
//
// Variants, a commit each: after (267239116987), 2018-users (the mm_users shortcut removed), 2018-invalidate
// (d86564a2f085 with HAVE_RCU_TABLE_INVALIDATE, as x86 selected it), 2019-opt-out (96bc9567cbe1: powerpc opts out
// with HAVE_RCU_TABLE_NO_INVALIDATE), 2020-needs-invalidate (0ed1325967ab: tlb_needs_table_invalidate() =
// radix_enabled()). No name is a bare year: JS orders integer-like keys first, and the first variant is the default.

import { PPC64 } from "../../powerpc/pgtable_ppc64";
import { int, bool, oneOf } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { defineScenario } from "../../explore/scenario";
import type { ScenarioInstance } from "../../explore/scenario";
import type { Gen, Machine } from "../../sim/machine";
import { MmWorld } from "../../mm/index";
import type { MmStruct } from "../../mm/mm_types";
import { powerpcHashOps, powerpcHash, prefault } from "../../powerpc/index";
import { installPwc, pwcOf } from "../../hw/pwc";
import { defineSources } from "../../sim/sources";
import * as later from "./later";
import * as radix from "./radix";
import * as inv2018 from "./invalidate_2018";
import * as inv2019 from "./invalidate_2019";
import * as inv2020 from "./invalidate_2020";
import { rcuTableFreeOps, munmap_thread, check_tables_freed, RCU_BASE } from "./scenario";
import type { RKW } from "./radix";

defineSources(__dirname, { radix, invalidate_2018: inv2018, invalidate_2019: inv2019, invalidate_2020: inv2020 });

/** rcu-table-free's kernel on book3s64: tlb_flush dispatches on radix_enabled(); tlb_table_invalidate a no-op. */
export const walkCacheOps = {
  ...rcuTableFreeOps,
  tlb_flush: radix.tlb_flush,
  hash__tlb_flush: powerpcHashOps.tlb_flush,
  radix__tlb_flush: radix.radix__tlb_flush,
  radix__flush_all_mm: radix.radix__flush_all_mm,
  tlb_table_invalidate: radix.tlb_table_invalidate,
};

/** d86564a2f085's tlb_table_flush and tlb_remove_table, with one commit's tlb_table_invalidate. */
const invalidating = (tlb_table_invalidate: typeof inv2018.tlb_table_invalidate) => ({
  tlb_remove_table: inv2018.tlb_remove_table,
  tlb_table_flush: inv2018.tlb_table_flush,
  tlb_table_invalidate,
});

export const walkCacheVariants = {
  after: {},
  "2018-users": { tlb_remove_table: later.tlb_remove_table },
  "2018-invalidate": invalidating(inv2018.tlb_table_invalidate),
  "2019-opt-out": invalidating(inv2019.tlb_table_invalidate),
  "2020-needs-invalidate": invalidating(inv2020.tlb_table_invalidate),
};

export const walkCacheParams = {
  mmu: oneOf(["radix", "hash"] as const, "radix", "translation: radix (hardware walks Linux's tables) or hash"),
  user: oneOf(["thread", "lazy"] as const, "thread", "CPU 1: a thread of the mm, or a lazy-TLB kernel thread"),
  allocFail: bool(true, "whether the batch page allocation may fail: explored both ways"),
  batchMax: int(1, 509, 509, "batch capacity (MAX_TABLE_BATCH: 509 on 4K pages; 1 reaches the full-batch flush)"),
};
export type WalkCacheParams = ParamsOf<typeof walkCacheParams>;

/** CPU 1 on radix: two speculative hardware walks of the range (TLB misses, prefetch), placed by the explorer. */
export function* hw_walker(k: RKW, mm: MmStruct, lazy: boolean): Gen {
  if (!lazy) yield* k.switch_mm(mm);
  const pwc = pwcOf(k.m)!;
  for (let i = 0; i < 2; i++) if ((yield* pwc.walk(k, mm, RCU_BASE)) < 0) return;
}

/** CPU 1 on hash: the thread's hash miss (hash_page, IRQs off); the hash MMU itself reads only the HPT. */
export function* hash_walker(k: RKW, mm: MmStruct): Gen {
  yield* k.switch_mm(mm);
  yield* k.hash_page(RCU_BASE, false);
}

function build(k: RKW, m: Machine, p: WalkCacheParams): ScenarioInstance {
  m.ext.rcuTableBatchMax = p.batchMax;
  m.ext.radix = p.mmu === "radix";
  const w = new MmWorld(m, {
    frames: 12,
    ptrsPerPte: 2,
    ptrsPerPmd: 2,
    ptrsPerPgd: 2,
    allocMayFail: p.allocFail,
    layout: PPC64,
  });
  powerpcHash(w, { ptegs: 2, tlbEntries: 2 }); // the HPT exists on radix too, unused: no PTE is ever hashed
  if (p.mmu === "radix") installPwc(w);
  const mm = w.mm_alloc("mm");
  const vma = w.mmap_anon(mm, RCU_BASE, 1);
  prefault(mm, RCU_BASE, { write: true, hash: false });
  w.current_mm[0] = mm;
  if (p.user === "thread") {
    mm.mm_users = 2;
    w.current_mm[1] = mm;
  } else {
    // CPU 1's thread of the mm exited; the kernel thread now there keeps it as active_mm (mm_count), loaded.
    mm.mm_count = 2;
    w.current[1] = mm;
    mm.cpu_vm_mask |= 1 << 1;
  }
  m.spawn(0, "munmap", munmap_thread(k, mm, vma));
  if (p.mmu === "radix")
    m.spawn(1, p.user === "thread" ? "hw walks" : "lazy: hw walks", hw_walker(k, mm, p.user === "lazy"));
  else if (p.user === "thread") m.spawn(1, "hash_page", hash_walker(k, mm));
  return { final: () => check_tables_freed(k, w) };
}

export const rcuTableFreeWalkCache = defineScenario({
  id: "rcu-table-free-pwc",
  fix: "rcu-table-free",
  title: "later history: tables freed before the page-walk cache is invalidated (radix), and the fixes",
  description:
    "rcu-table-free's munmap on book3s64 radix, whose hardware walks Linux's tables and caches upper-level entries " +
    "on every CPU with the mm loaded (lazy-TLB ones too). 2011's paths that free a table before any TLB/PWC " +
    "invalidate (mm_users < 2, allocation failure, a full batch) let a hardware walk go through a freed table; " +
    "d86564a2f085 invalidates first, 96bc9567cbe1's opt-out loses that on radix, 0ed1325967ab restores it.",
  ops: walkCacheOps,
  variants: walkCacheVariants,
  machine: { cpus: 2, rcu: true },
  params: walkCacheParams,
  bounds: { preemptions: 2, depth: 3, maxSteps: 2000 },
  setup: (k, m, p) => build(k, m, p),
});
