// Exercises of notebook 01 (fix 000, lazy-mmu-batch). Each checker computes the truth by running the model.

import type { KernelFn } from "../../sim/kernel";
import { explore } from "../../explore/explore";
import { lazyMmuBatch } from "./scenario";
import { lazyMmuCost } from "./workload";
import { checkExercise, ExerciseResult } from "../../classroom/exercise";

/** The munmap of exercise 1. */
export const EXERCISE1 = { pages: 600, cpus: 1 } as const;

/**
 * Exercise 1: after the fix, how many times does __flush_tlb_pending run when CPU 0 munmaps EXERCISE1.pages
 * hashed pages of an mm that ran on EXERCISE1.cpus CPUs, and how many tlbie and tlbiel does it issue?
 */
export function checkFlushCount(
  answer: { batchFlushes: number; tlbie: number; tlbiel: number } | undefined,
): ExerciseResult {
  return checkExercise("exercise 1 (flush counts)", answer, (a) => {
    const t = lazyMmuCost("after", { pages: EXERCISE1.pages, cpus: EXERCISE1.cpus, op: "munmap" });
    const wrong: string[] = [];
    if (a.batchFlushes !== t.batchFlushes)
      wrong.push(
        "batch flushes: a batch never outlives one PTE page (512 PTEs), holds at most 192 entries, and a full mmu_gather (FREE_PTE_NR = 506 pages) flushes whatever is pending",
      );
    if (a.tlbie !== t.tlbie || a.tlbiel !== t.tlbiel)
      wrong.push("tlbie/tlbiel: a flush is local only when cpu_vm_mask is this CPU alone");
    return wrong.length === 0
      ? { ok: true, message: `right: ${t.batchFlushes} batch flushes, ${t.tlbie} tlbie, ${t.tlbiel} tlbiel` }
      : { ok: false, message: `not quite — ${wrong.join("; ")}` };
  });
}

/**
 * Exercise 2: write an arch_leave_lazy_mmu_mode that forgets to flush, let the explorer find what breaks, and
 * name the invariant it reports.
 */
export function checkBrokenLeave(answer: { leave: KernelFn; invariant: string } | undefined): ExerciseResult {
  return checkExercise("exercise 2 (break the fix)", answer, (a) => {
    if (typeof a.leave !== "function")
      return { ok: false, message: "leave must be a generator function: function* (k) { … }" };
    const r = explore(lazyMmuBatch, {
      variant: "after",
      overrides: { arch_leave_lazy_mmu_mode: a.leave },
      timeLimitMs: 20_000,
    });
    if (!r.violation) {
      return {
        ok: false,
        message: `the explorer found nothing in ${r.executions} executions: your version still makes the section safe (does it still flush before the PTE lock is dropped?)`,
      };
    }
    if (r.violation.invariant !== a.invariant) {
      return {
        ok: false,
        message: `your version does break the fix, but the explorer reports "${r.violation.invariant}", not "${a.invariant}": look at the timeline`,
      };
    }
    return {
      ok: true,
      message: `right: without the flush the PTE lock no longer covers the window, and the explorer finds ${r.violation.invariant} with ${r.violation.preemptions} preemption(s)`,
    };
  });
}
