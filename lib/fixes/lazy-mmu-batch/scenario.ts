// Fix 000, lazy-mmu-batch: a741e67969577163a4cfc78d7fd2753219087ef1 "[POWERPC] Make tlb flush batch use
// lazy MMU mode" (v2.6.22). One CPU unmaps a range of an mm (MADV_DONTNEED: zap_page_range) while another
// thread of the same mm reads and then stores to the same pages. Nothing here says in which order they run:
// the explorer finds the interleaving.
//
// Era: v2.6.21/22. The generic mmu_gather is v2.6.22's per-CPU one (era.ts: preemption off from
// tlb_gather_mmu to tlb_finish_mmu). zap_pte_range is the base model's v3.14 shape; with a gather that never
// fills (the scenario unmaps fewer pages than it holds) it does what the v2.6.22 one does: clear under the
// PTE lock, gather, unlock, flush and free at tlb_finish_mmu.

import { defineScenario } from "../../explore/scenario";
import { int, bool } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { simOps } from "../../sim/index";
import type { Gen } from "../../sim/machine";
import { mmOps, MmWorld, PAGE_SIZE } from "../../mm/index";
import * as generic from "../../mm/memory";
import { powerpcHashOps, powerpcHash, prefault, PPC64 } from "../../powerpc/index";
import * as era from "./era";
import * as before from "./before";
import * as later from "./later";
import * as apply from "./apply_to_page_range";
import { defineSources } from "../../sim/sources";
import type { PK } from "../../powerpc/kernel";
import type { MmStruct, Vma } from "../../mm/mm_types";

defineSources(__dirname, { era, before, later, apply_to_page_range: apply });

export const BASE = 0x10000000;

/** The modelled functions of the v2.6.22 kernel (the fixed one): generic mm of the era plus the hash MMU. */
export const lazyMmuOps = {
  ...simOps,
  ...mmOps,
  ...powerpcHashOps,
  tlb_gather_mmu: era.tlb_gather_mmu,
  tlb_finish_mmu: era.tlb_finish_mmu,
  // v2.6.21 names that a741e679 removed: only the before variant's code calls them
  hpte_update: before.hpte_update,
  flush_tlb_pending: before.flush_tlb_pending,
};

/**
 * The functions a741e679 changed, as they were before it (v2.6.21). The batch is filled by hpte_update under the
 * PTE lock and drained by flush_tlb_pending from tlb_flush, flush_tlb_page and set_pte_at; generic code's
 * lazy-MMU hooks are still the no-ops of asm-generic.
 */
export const lazyMmuBefore = {
  pte_update: before.pte_update,
  __flush_tlb_pending: before.__flush_tlb_pending,
  tlb_flush: before.tlb_flush,
  flush_tlb_page: before.flush_tlb_page,
  set_pte_at: before.set_pte_at,
  arch_enter_lazy_mmu_mode: generic.arch_enter_lazy_mmu_mode,
  arch_leave_lazy_mmu_mode: generic.arch_leave_lazy_mmu_mode,
};

export const lazyMmuParams = {
  cpus: int(2, 15, 2, "CPUs; CPU 0 unmaps, every other CPU runs a user thread of the same mm"),
  pages: int(1, 64, 1, "pages mapped, hashed and unmapped"),
  batchNr: int(1, 192, 192, "PPC64_TLB_BATCH_NR (192 in the kernel)"),
  ptegs: int(1, 1024, 2, "PTEGs in the HPT"),
  store: bool(true, "whether the user threads store after reading (false: reads only, a smaller space for benchmarks)"),
};

export type LazyMmuParams = ParamsOf<typeof lazyMmuParams>;

export const lazyMmuBatch = defineScenario({
  id: "lazy-mmu-batch",
  fix: "lazy-mmu-batch",
  title: "ppc64 hash flush batch drained after the PTE lock is dropped",
  description:
    "CPU 0 zaps a range (MADV_DONTNEED) while a thread of the same mm on another CPU reads then stores to it. " +
    "Before the fix the hash flush is queued in a per-CPU batch and drained at tlb_finish_mmu, after the PTE lock.",
  ops: lazyMmuOps,
  variants: { before: lazyMmuBefore, after: {} },
  machine: (p) => ({ cpus: p.cpus }),
  params: lazyMmuParams,
  bounds: { preemptions: 2, depth: 3, maxSteps: 1000 },
  setup(k, m, p) {
    const w = new MmWorld(m, {
      layout: PPC64,
      frames: 8 + 2 * p.pages * p.cpus,
      ptrsPerPte: Math.max(2, p.pages),
      ptrsPerPmd: 2,
      ptrsPerPgd: 2,
    });
    powerpcHash(w, { ptegs: p.ptegs, tlbEntries: 2, batchNr: p.batchNr });
    const mm = w.mm_alloc();
    const vma = w.mmap_anon(mm, BASE, p.pages);
    const users: number[] = [];
    for (let c = 1; c < p.cpus; c++) users.push(m.coreOf(c));
    // Every page was read by the user threads: clean (so its HPTE is read-only), hashed, in their TLBs.
    for (let i = 0; i < p.pages; i++) prefault(mm, BASE + i * PAGE_SIZE, { write: false, tlbCores: users });
    m.spawn(0, "madvise", madvise_dontneed(k, mm, vma, BASE, p.pages * PAGE_SIZE));
    for (let c = 1; c < p.cpus; c++) m.spawn(c, `user${c}`, read_then_store(k, mm, BASE, p.pages, p.store));
  },
});

// Thread bodies are module-level generator functions: a `function*` expression evaluated for every execution
// gets a fresh prototype object, which V8 keeps out of the nursery, and makes each scavenge ~20× dearer.

/** CPU 0: madvise(MADV_DONTNEED) over [start, start + len). */
export function* madvise_dontneed(k: PK, mm: MmStruct, vma: Vma, start: number, len: number): Gen {
  yield* k.switch_mm(mm);
  yield* k.zap_page_range(vma, start, len);
}

/** Another thread of the same mm: read each page, then store to it. */
export function* read_then_store(k: PK, mm: MmStruct, start: number, pages: number, store: boolean): Gen {
  yield* k.switch_mm(mm);
  for (let i = 0; i < pages; i++) {
    yield* k.user_access(mm, start + i * PAGE_SIZE, false);
    if (store) yield* k.user_access(mm, start + i * PAGE_SIZE, true);
  }
}
