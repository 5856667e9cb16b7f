// Fix 002, split-tlb-flush: 1cf35d47712dd5dc4d62c6ce984f04ac6eab0408 "mm: split 'tlb_flush_mmu()' into tlb
// flushing and memory freeing parts" (Linus Torvalds, v3.15-rc, Apr 2014), and its v6.2 completion 5df397dec7c4
// "mm: delay page_remove_rmap() until after the TLB has been flushed" (prepared by 7cc8f9c7146a).
//
// A MAP_SHARED file page is mapped writable and dirty by an mm whose thread on CPU 1 has it cached dirty in its
// TLB. CPU 0 zaps the mapping (MADV_DONTNEED: zap_page_range; the vma stays in the file's i_mmap tree), CPU 1
// stores to the page, and CPU 2 writes the page back (clear_page_dirty_for_io: page_mkclean, TestClearPageDirty,
// then the disk write) and tries to reclaim it. Invariant: no store is lost (lost-write: a page reclaimed or
// left clean whose contents differ from the disk). Nothing here says in which order they run.
//
// Two scenarios: `split-tlb-flush` (another process keeps the page mapped, so page_mkclean walks the file's
// mappings, the zapped one included, taking each PTE lock) and `split-tlb-flush-last-map` (the zapped mapping is
// the page's last: once zap_pte_range has dropped the rmap, page_mkclean sees the page unmapped and walks
// nothing).
//
// Variants (the functions each kernel had; the base table is the 1cf35d47 kernel):
//  - before (v3.14): set_page_dirty under the PTL, unlock, flush later in tlb_flush_mmu (flush and free in one).
//  - after (1cf35d47): force_flush on a dirty file PTE; tlb_flush_mmu_tlbonly before pte_unmap_unlock,
//    tlb_flush_mmu_free after it, `goto again` if addr != end. tlb_flush_mmu becomes tlbonly + free.
//  - later (v6.2): the dirty file page keeps its rmap (delay_rmap, encoded page pointer) until
//    tlb_flush_rmaps, after tlb_flush_mmu_tlbonly and still under the PTL.
// __tlb_remove_page_size and tlb_flush_rmaps exist in the table of every variant but only v6.2's zap calls
// them; tlb_flush_mmu_tlbonly / _free likewise exist but v3.14's code never calls them.
//
// Architecture (param `arch`):
//  - "x86" (default): an x86-like TLB caching the dirty state: a store through an entry cached dirty bypasses
//    the page table; the flush is a shootdown IPI done by tlb_flush (flush_tlb_mm_range) in tlb_flush_mmu.
//  - "hash": the ppc64 hash MMU with the v2.6.22+ lazy-MMU batch (fix 000). There the flush of every cleared
//    PTE happens in arch_leave_lazy_mmu_mode, still under the PTL, in every variant: the "before" zap already
//    flushed before unlocking, so split-tlb-flush is safe before the fix too. But page_remove_rmap runs inside
//    the lazy section, before arch_leave_lazy_mmu_mode drains the batch, so for the last mapping page_mkclean
//    returns at once while CPU 1's TLB can still store: lost in before and after; v6.2 drops the rmap after
//    the flush, so it is safe. (Each of these verdicts is found by search: test/scenarios/split_tlb_flush.test.ts.)
//    v6.2's hash lazy-MMU enter/leave also disable preemption (b9ef323ea168); inside the PTL that changes
//    nothing, so the v2.6.22 versions are used in every variant.

import { defineScenario } from "../../explore/scenario";
import { oneOf } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { simOps } from "../../sim/index";
import type { Gen, Machine } from "../../sim/machine";
import type { ScenarioInstance } from "../../explore/scenario";
import { mmOps, MmWorld, PAGE_SIZE, populate, check_lost_writes, mmWorld } from "../../mm/index";
import { PPC64 } from "../../powerpc/pgtable_ppc64";
import { X86 } from "../../x86/pgtable_types";
import { TLB_W, TLB_C, X86Hw } from "../../hw/index";
import type { K } from "../../mm/index";
import type { MmStruct, Vma, AddressSpace } from "../../mm/mm_types";
import type { PageFrame } from "../../sim/page_alloc";
import * as generic from "../../mm/memory";
import * as gather from "../../mm/mmu_gather";
import * as after from "./after";
import * as later from "./later";
import { defineParts, defineSources } from "../../sim/sources";

defineSources(__dirname, { after, later });
import { x86Ops, x86FlushOps, x86Mmu } from "../../x86/index";
import { powerpcHashOps, powerpcHash, prefault } from "../../powerpc/index";
import type { KernelFn } from "../../sim/kernel";

export const SPLIT_BASE = 0x10000000;
/** Where the other process maps the same file page (split-tlb-flush only). */
export const OTHER_BASE = 0x20000000;

export const SPLIT_ARCHES = ["x86", "hash"] as const;
export type SplitArch = (typeof SPLIT_ARCHES)[number];

/** The machine an execution runs on: true for the x86-like MMU (the scenario's `arch` param). */
function onX86(k: K): boolean {
  return mmWorld(k.m).hw instanceof X86Hw;
}

/**
 * An arch hook chosen by the machine's MMU, as the kernel chooses it at build time (CONFIG_X86 or
 * CONFIG_PPC_STD_MMU_64). Its source, for schedule fingerprints, is both implementations.
 */
function perArch(x86: KernelFn, hash: KernelFn): KernelFn {
  const fn = function* (k: K, ...a: unknown[]): Gen<unknown> {
    return yield* (onX86(k) ? x86 : hash)(k, ...a);
  };
  fn.toString = () => `perArch(${x86.toString()}, ${hash.toString()})`;
  defineParts(fn, [x86, hash]);
  return fn;
}

/** The kernel of 1cf35d47 (v3.15), with both MMUs; arch hooks dispatch on the machine's MMU. */
export const splitTlbFlushOps = {
  ...simOps,
  ...mmOps,
  ...powerpcHashOps,
  ...x86FlushOps, // the shootdown path x86's tlb_flush and flush_tlb_page call (no hash counterpart)
  user_access: perArch(x86Ops.user_access, powerpcHashOps.user_access) as typeof x86Ops.user_access,
  ptep_get_and_clear: perArch(
    x86Ops.ptep_get_and_clear,
    powerpcHashOps.ptep_get_and_clear,
  ) as typeof x86Ops.ptep_get_and_clear,
  set_pte_at: perArch(x86Ops.set_pte_at, powerpcHashOps.set_pte_at) as typeof x86Ops.set_pte_at,
  ptep_set_wrprotect: perArch(
    x86Ops.ptep_set_wrprotect,
    powerpcHashOps.ptep_set_wrprotect,
  ) as typeof x86Ops.ptep_set_wrprotect,
  ptep_set_access_flags: perArch(
    x86Ops.ptep_set_access_flags,
    powerpcHashOps.ptep_set_access_flags,
  ) as typeof x86Ops.ptep_set_access_flags,
  ptep_test_and_clear_young: perArch(
    x86Ops.ptep_test_and_clear_young,
    powerpcHashOps.ptep_test_and_clear_young,
  ) as typeof x86Ops.ptep_test_and_clear_young,
  flush_tlb_page: perArch(x86Ops.flush_tlb_page, powerpcHashOps.flush_tlb_page) as typeof x86Ops.flush_tlb_page,
  tlb_flush: perArch(x86Ops.tlb_flush, powerpcHashOps.tlb_flush) as typeof x86Ops.tlb_flush,
  arch_enter_lazy_mmu_mode: perArch(
    generic.arch_enter_lazy_mmu_mode,
    powerpcHashOps.arch_enter_lazy_mmu_mode,
  ) as typeof generic.arch_enter_lazy_mmu_mode,
  arch_leave_lazy_mmu_mode: perArch(
    generic.arch_leave_lazy_mmu_mode,
    powerpcHashOps.arch_leave_lazy_mmu_mode,
  ) as typeof generic.arch_leave_lazy_mmu_mode,
  // what 1cf35d47 changed and added
  zap_pte_range: after.zap_pte_range,
  tlb_flush_mmu: after.tlb_flush_mmu,
  tlb_flush_mmu_tlbonly: after.tlb_flush_mmu_tlbonly,
  tlb_flush_mmu_free: after.tlb_flush_mmu_free,
  // v6.2's gather entry points: only the later variant's code calls them
  __tlb_remove_page_size: later.__tlb_remove_page_size,
  tlb_flush_rmaps: later.tlb_flush_rmaps,
};

/** The functions 1cf35d47 changed, as they were before it: the base model's v3.14 code. */
export const splitTlbFlushBefore = {
  zap_pte_range: generic.zap_pte_range,
  tlb_flush_mmu: gather.tlb_flush_mmu,
};

/** The same functions as of v6.2 (5df397dec7c4 and the mmu_gather it builds on). */
export const splitTlbFlushLater = {
  zap_pte_range: later.zap_pte_range,
  tlb_flush_mmu: later.tlb_flush_mmu,
  tlb_flush_mmu_tlbonly: later.tlb_flush_mmu_tlbonly,
  tlb_flush_mmu_free: later.tlb_flush_mmu_free,
};

export const splitTlbFlushVariants = { before: splitTlbFlushBefore, after: {}, later: splitTlbFlushLater };

export const splitTlbFlushParams = {
  arch: oneOf(SPLIT_ARCHES, "x86", "the MMU: the x86-like TLB, or the ppc64 hash MMU with the lazy-MMU batch"),
};

export type SplitTlbFlushParams = ParamsOf<typeof splitTlbFlushParams>;

/**
 * The initial state and threads of both scenarios. The page holds store v5 (disk: v0), its PTE in mm "a" is
 * dirty and writable, and core 1's TLB caches it writable and dirty. `otherMapping`: a second process maps
 * the page read-only (clean), and its vma comes after the zapped one in i_mmap.
 */
function build(k: K, m: Machine, p: SplitTlbFlushParams, otherMapping: boolean): ScenarioInstance {
  const x86 = p.arch === "x86";
  const w = new MmWorld(m, { frames: 12, ptrsPerPte: 2, ptrsPerPmd: 2, ptrsPerPgd: 2, layout: x86 ? X86 : PPC64 });
  const file = w.newFile("f", 1);
  w.storeSeq = 5; // the next user store writes v6
  const mm = w.mm_alloc("a");
  const vma = w.mmap_file(mm, SPLIT_BASE, 1, file);
  let pfn: number;
  if (x86) {
    const hw = x86Mmu(w, { tlbEntries: 2 });
    pfn = populate(mm, SPLIT_BASE, { write: true, data: 5 });
    hw.tlb.fill(m.coreOf(1), mm.contextId * 2 ** 20 + SPLIT_BASE / PAGE_SIZE, pfn, w.pa.frames[pfn].gen, TLB_W | TLB_C);
  } else {
    powerpcHash(w, { ptegs: 2, tlbEntries: 2 });
    pfn = prefault(mm, SPLIT_BASE, { write: true, data: 5, tlbCores: [m.coreOf(1)] });
  }
  mm.cpu_vm_mask = 0b11; // CPU 0 (the unmapper) and CPU 1 (the user thread) ran this mm
  if (otherMapping) {
    const other = w.mm_alloc("b");
    w.mmap_file(other, OTHER_BASE, 1, file);
    populate(other, OTHER_BASE, { write: false }); // clean, read-only, never touched since: no TLB or HPTE
  }
  const page = w.pa.frames[pfn];
  m.spawn(0, "madvise", madvise_thread(k, mm, vma));
  m.spawn(1, "user", store_thread(k, mm));
  m.spawn(2, "writeback", writeback_thread(k, page, file));
  return { final: () => check_lost_writes(k, w) };
}

// Thread bodies are module-level generator functions (a per-execution `function*` closure costs V8 dearly).

/** CPU 0: MADV_DONTNEED of the page. */
function* madvise_thread(k: K, mm: MmStruct, vma: Vma): Gen {
  yield* k.switch_mm(mm);
  yield* k.zap_page_range(vma, SPLIT_BASE, PAGE_SIZE);
}

/** CPU 1: a store through its (writable, dirty) TLB entry. */
function* store_thread(k: K, mm: MmStruct): Gen {
  yield* k.switch_mm(mm); // hash_page finds the mm through the CPU's current mm
  yield* k.user_access(mm, SPLIT_BASE, true);
}

/** CPU 2: writeback (clear_page_dirty_for_io: page_mkclean, TestClearPageDirty; writepage), then reclaim. */
function* writeback_thread(k: K, page: PageFrame, file: AddressSpace): Gen {
  yield* k.write_one_page(page);
  yield* k.shrink_page(file, 0); // a clean, unmapped page is dropped from the page cache
}

export const splitTlbFlush = defineScenario({
  id: "split-tlb-flush",
  fix: "split-tlb-flush",
  title: "dirty shared page zapped while writeback cleans it; another process keeps it mapped",
  description:
    "CPU 0 zaps (MADV_DONTNEED) a dirty MAP_SHARED file page that CPU 1's TLB caches writable and dirty, CPU 1 stores " +
    "to it, CPU 2 writes it back and reclaims it. Another process still maps the page, so page_mkclean walks every " +
    "mapping and takes each PTE lock. Before 1cf35d47 the TLB flush comes after the PTE lock is dropped.",
  ops: splitTlbFlushOps,
  variants: splitTlbFlushVariants,
  machine: { cpus: 3 },
  params: splitTlbFlushParams,
  bounds: { preemptions: 2, depth: 3, maxSteps: 1000 },
  setup: (k, m, p) => build(k, m, p, true),
});

export const splitTlbFlushLastMap = defineScenario({
  id: "split-tlb-flush-last-map",
  fix: "split-tlb-flush",
  title: "dirty shared page zapped while writeback cleans it; the zapped mapping is the last",
  description:
    "As split-tlb-flush, but no other process maps the page: once zap_pte_range has dropped the rmap, page_mkclean " +
    "sees the page unmapped and takes no lock. 1cf35d47 flushes before unlocking but after page_remove_rmap; v6.2 " +
    "delays the rmap removal until after the flush.",
  ops: splitTlbFlushOps,
  variants: splitTlbFlushVariants,
  machine: { cpus: 3 },
  params: splitTlbFlushParams,
  bounds: { preemptions: 2, depth: 3, maxSteps: 1000 },
  setup: (k, m, p) => build(k, m, p, false),
});
