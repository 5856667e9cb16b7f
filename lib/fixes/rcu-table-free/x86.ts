// Fix 001 for comparison: x86 in v3.0, which did not select HAVE_RCU_TABLE_FREE. Its page tables go into the
// mmu_gather with the pages (arch/x86/mm/pgtable.c ___pte_free_tlb / ___pmd_free_tlb: tlb_remove_page) and are
// freed by tlb_flush_mmu right after tlb_flush, which is flush_tlb_mm(tlb->mm) (arch/x86/include/asm/tlb.h,
// v3.0): an IPI to every other CPU of mm_cpumask that waits for each handler. A walker with IRQs off (x86's
// get_user_pages_fast) holds that IPI off, hence the free; a walker with only preemption off takes the IPI
// mid-walk and the table is freed under it. Same threads as the ppc64 scenario; the explorer finds the orders.
//
// The range question: the model's gather records only the PTEs it zapped (tlb.start/end), and v3.14's range
// tlb_flush (lib/x86/tlb.ts) flushes nothing when no PTE was present. v3.14's real gather flushes the whole
// range tlb_gather_mmu was given, and v3.0's tlb_flush ignores ranges (flush_tlb_mm), so both kernels send the
// IPI whenever a table was freed (pte_free_tlb sets need_flush). This scenario uses v3.0's tlb_flush, so its
// verdicts do not depend on the model's range; `populated: false` (no PTE present) checks exactly that.

import { bool, oneOf } from "../../explore/params";
import type { ParamsOf } from "../../explore/params";
import { defineScenario } from "../../explore/scenario";
import type { Kernel, ScenarioInstance } from "../../explore/scenario";
import { simOps } from "../../sim/index";
import type { Gen, Machine } from "../../sim/machine";
import type { PageFrame } from "../../sim/page_alloc";
import { mmOps, MmWorld, populate } from "../../mm/index";
import type { MmStruct, PtPage, Vma } from "../../mm/mm_types";
import type { MmuGather } from "../../mm/mmu_gather";
import { x86Ops, x86Mmu, flush_tlb_mm, get_user_pages_fast, X86 } from "../../x86/index";
import { defineSources } from "../../sim/sources";
import * as era from "./era";
import * as walker from "./walker";
import { RCU_BASE, check_tables_freed } from "./scenario";

/** ___pte_free_tlb (arch/x86/mm/pgtable.c, v3.0): pgtable_page_dtor, paravirt_release_pte, tlb_remove_page. */
export function* __pte_free_tlb(_k: X86K, tlb: MmuGather, pt: PtPage, _address: number): Gen {
  tlb.tables.push(pt); // freed by tlb_flush_mmu after tlb_flush, with the gathered pages
}

/** ___pmd_free_tlb (v3.0, PAGETABLE_LEVELS > 2): paravirt_release_pmd, tlb_remove_page(virt_to_page(pmd)). */
export function* __pmd_free_tlb(_k: X86K, tlb: MmuGather, pmdt: PtPage, _address: number): Gen {
  tlb.tables.push(pmdt);
}

/** tlb_flush (arch/x86/include/asm/tlb.h, v3.0): flush_tlb_mm(tlb->mm), whatever the range. */
export function* tlb_flush(k: X86K, tlb: MmuGather): Gen {
  yield* k.flush_tlb_mm(tlb.mm);
  tlb.start = Infinity; // the model's gathers expect each arch's tlb_flush to reset the range
  tlb.end = 0;
}

/** Control, no kernel's code: the table freed at once, before any flush (what the IPI ordering prevents). */
export function* __pte_free_tlb_now(k: X86K, _tlb: MmuGather, pt: PtPage, _address: number): Gen {
  yield* k.pte_free(pt);
}

/** x86, v3.0: base mm (its v3.14 gather frees tables after tlb_flush, as v3.0's did) + x86 + the v3.0 free path. */
export const rcuTableFreeX86Ops = {
  ...simOps,
  ...mmOps,
  ...x86Ops,
  flush_tlb_mm,
  tlb_flush,
  free_pgtables: era.free_pgtables,
  free_pgd_range: era.free_pgd_range,
  free_pud_range: era.free_pud_range,
  free_pmd_range: era.free_pmd_range,
  free_pte_range: era.free_pte_range,
  pte_free_tlb: era.pte_free_tlb,
  pmd_free_tlb: era.pmd_free_tlb,
  __pte_free_tlb,
  __pmd_free_tlb,
  get_user_pages_fast,
  rcu_sched_walk: walker.rcu_sched_walk,
};

export type X86K = Kernel<typeof rcuTableFreeX86Ops>;

defineSources(__dirname, { x86: { __pte_free_tlb, __pmd_free_tlb, tlb_flush, __pte_free_tlb_now } });

export const rcuTableFreeX86Params = {
  walker: oneOf(["gup_fast", "rcu_sched"] as const, "gup_fast", "the lockless walker on CPU 1 (x86 has no hash_page)"),
  user: oneOf(
    ["thread", "kthread"] as const,
    "thread",
    "another thread of the mm, or a kernel thread that use_mm()s it",
  ),
  populated: bool(true, "the unmapped page is mapped (false: only the tables are left, no PTE is zapped)"),
};
export type RcuTableFreeX86Params = ParamsOf<typeof rcuTableFreeX86Params>;

/** CPU 0: munmap of the range (unmap_region, floor 0, ceiling 0). */
export function* munmap_x86(k: X86K, mm: MmStruct, vma: Vma): Gen {
  yield* k.switch_mm(mm);
  yield* k.unmap_region(vma, vma.start, vma.end, 0, 0);
}

/** CPU 1: one lockless walk of RCU_BASE, by a thread of the mm or by a kernel thread that use_mm()s it. */
export function* walker_x86(k: X86K, mm: MmStruct, p: RcuTableFreeX86Params): Gen {
  if (p.user === "kthread") yield* k.use_mm(mm);
  else yield* k.switch_mm(mm);
  if (p.walker === "gup_fast") {
    const pages: PageFrame[] = [];
    yield* k.get_user_pages_fast(RCU_BASE, 1, false, pages);
    for (const page of pages) yield* k.put_page(page);
  } else yield* k.rcu_sched_walk(mm, RCU_BASE);
  if (p.user === "kthread") yield* k.unuse_mm(mm);
}

function build(k: X86K, m: Machine, p: RcuTableFreeX86Params): ScenarioInstance {
  const w = new MmWorld(m, { frames: 12, ptrsPerPte: 2, ptrsPerPmd: 2, ptrsPerPgd: 2, layout: X86 });
  x86Mmu(w, { tlbEntries: 2 });
  const mm = w.mm_alloc("mm");
  const vma = w.mmap_anon(mm, RCU_BASE, 1);
  if (p.populated) populate(mm, RCU_BASE);
  else w.buildTables(mm, RCU_BASE); // as after MADV_DONTNEED: the tables stay, the PTE is none
  w.current_mm[0] = mm;
  if (p.user === "thread") {
    mm.mm_users = 2;
    w.current_mm[1] = mm;
  } else mm.mm_count = 2;
  m.spawn(0, "munmap", munmap_x86(k, mm, vma));
  m.spawn(1, p.user === "thread" ? p.walker : `kthread:${p.walker}`, walker_x86(k, mm, p));
  return { final: () => check_tables_freed(k, w) };
}

export const rcuTableFreeX86 = defineScenario({
  id: "rcu-table-free-x86",
  fix: "rcu-table-free",
  title: "x86 (v3.0, no RCU table freeing): a PTE page and a pmd table freed after the IPI shootdown",
  description:
    "The rcu-table-free threads on x86 of 2011: tables are freed by tlb_flush_mmu right after tlb_flush's IPI " +
    "to every CPU of the mm, which waits for each. An IRQ-off walker (get_user_pages_fast) holds it off; an " +
    "rcu_read_lock_sched walker takes the IPI mid-walk and reads a freed table.",
  ops: rcuTableFreeX86Ops,
  variants: { v30: {}, naive: { __pte_free_tlb: __pte_free_tlb_now } },
  machine: { cpus: 2, rcu: true },
  params: rcuTableFreeX86Params,
  bounds: { preemptions: 2, depth: 3, maxSteps: 2000 },
  setup: (k, m, p) => build(k, m, p),
});
