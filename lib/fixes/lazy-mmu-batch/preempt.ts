// Fix 000's later history: since 38e0edb15bd0 (2020, v5.9) apply_to_page_range runs its callbacks in a
// lazy-MMU section, and for kernel mappings without any PTE lock, so the section is preemptible and the task
// may move to another CPU with entries still in the old CPU's ppc64_tlb_batch. b9ef323ea168 "powerpc/64s:
// Disable preemption in hash lazy mmu mode" (Oct 2022) made enter/leave disable and enable preemption.
//
// This model never migrates a task, so the harm itself (a batch flushed on the wrong CPU, or never) is not
// reachable here; what surfaces is the kernel's own CONFIG_DEBUG_PREEMPT check on the per-CPU batch, as the
// warnings of that era did. The 2007 enter/leave in this model take the batch with __get_cpu_var, which is
// checked, so the report comes from the first per-CPU access of the section.

import { defineScenario } from "../../explore/scenario";
import { int, bool } from "../../explore/params";
import { simOps } from "../../sim/index";
import type { Gen } from "../../sim/machine";
import { mmOps, MmWorld, PAGE_SIZE } from "../../mm/index";
import { apply_to_pte_range } from "./apply_to_page_range";
import type { K } from "../../mm/kernel";
import type { MmStruct, Ptep } from "../../mm/mm_types";
import { powerpcHashOps, powerpcHash, prefault, PPC64 } from "../../powerpc/index";
import * as later from "./later";

const KBASE = 0x20000000;

export const lazyMmuPreemptOps = { ...simOps, ...mmOps, ...powerpcHashOps, apply_to_pte_range };

/** The pte_fn_t of the scenario: clear the PTE (as unmapping a kernel range does). */
function* clear_pte(k: K, ptep: Ptep, addr: number): Gen {
  yield* k.ptep_get_and_clear(ptep.pt.w.mms[0], addr, ptep);
}

/** The thread: apply_to_page_range(mm, [start, end), clear_pte). */
function* apply_clear(k: K, mm: MmStruct, kernel: boolean, start: number, end: number): Gen {
  yield* (k as K & { apply_to_pte_range: (...a: unknown[]) => Gen }).apply_to_pte_range(
    mm,
    kernel,
    start,
    end,
    clear_pte,
  );
}

export const lazyMmuPreempt = defineScenario({
  id: "lazy-mmu-preempt",
  fix: "lazy-mmu-batch",
  title: "Later history: a preemptible lazy-MMU section (apply_to_page_range on kernel mappings, 2020–2022)",
  ops: lazyMmuPreemptOps,
  variants: {
    // 38e0edb15bd0 (v5.9): the section runs without a PTE lock; enter/leave as in 2007
    "2020": {},
    // b9ef323ea168 (v6.1): enter/leave disable and enable preemption
    "2022": {
      arch_enter_lazy_mmu_mode: later.arch_enter_lazy_mmu_mode,
      arch_leave_lazy_mmu_mode: later.arch_leave_lazy_mmu_mode,
    },
  },
  machine: { cpus: 2 },
  params: {
    kernel: bool(true, "a kernel mapping (init_mm, no PTE lock) or a user one"),
    pages: int(1, 64, 2, "pages cleared"),
  },
  bounds: { preemptions: 2, maxSteps: 600 },
  setup(k, m, p) {
    const w = new MmWorld(m, {
      layout: PPC64,
      frames: 12,
      ptrsPerPte: Math.max(2, p.pages),
      ptrsPerPmd: 2,
      ptrsPerPgd: 2,
    });
    powerpcHash(w, { ptegs: 2, tlbEntries: 2 });
    const mm = w.mm_alloc(p.kernel ? "init_mm" : "mm");
    w.mmap_anon(mm, KBASE, p.pages);
    for (let i = 0; i < p.pages; i++) prefault(mm, KBASE + i * PAGE_SIZE, { write: true, tlbCores: [0, 1] });
    m.spawn(0, p.kernel ? "vunmap" : "apply", apply_clear(k, mm, p.kernel, KBASE, KBASE + p.pages * PAGE_SIZE));
  },
});
